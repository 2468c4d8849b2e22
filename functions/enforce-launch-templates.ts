// Lambda: EventBridge (CloudTrail CreateLaunchTemplate / CreateLaunchTemplateVersion / ModifyLaunchTemplate) -> enforce.
import { launchTemplateKind } from '../lib/kinds/launch-template/kind.js';
import { eventFunction } from '../lib/lambda/event-handler.js';

export const handler = eventFunction(launchTemplateKind);
