// Lambda: EventBridge (CloudTrail CreateLaunchTemplate / CreateLaunchTemplateVersion / ModifyLaunchTemplate) -> enforce. Configuration is read at cold start.
import { launchTemplateKind } from '../lib/kinds/launch-template/kind.js';
import { eventFunction } from '../lib/lambda/event-handler.js';

export const handler = eventFunction(launchTemplateKind);
