// Lambda: EventBridge (CloudTrail RunInstances / CreateFleet / ModifyInstanceMetadataOptions) -> enforce.
import { instanceKind } from '../lib/kinds/instance/kind.js';
import { eventFunction } from '../lib/lambda/event-handler.js';

export const handler = eventFunction(instanceKind);
