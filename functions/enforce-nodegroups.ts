// Lambda: EventBridge (CloudTrail CreateNodegroup / UpdateNodegroupVersion) -> enforce.
import { loadConfig } from '../lib/shell/config.js';
import { makeNodegroupHandler } from '../lib/lambda/nodegroups.js';
import { lambda } from '../lib/lambda/wrap.js';

// Cold start: an invalid configuration fails here, naming the variable.
export const handler = lambda(makeNodegroupHandler(loadConfig()));
