// Lambda: EventBridge (CloudTrail CreateNodegroup / UpdateNodegroupVersion) -> enforce. Configuration is read at cold start.
import { nodegroupKind } from '../lib/kinds/nodegroup/kind.js';
import { eventFunction } from '../lib/lambda/event-handler.js';

export const handler = eventFunction(nodegroupKind);
