// Lambda: EventBridge (CloudTrail CreateNodegroup / UpdateNodegroupVersion) -> enforce.
import { loadConfig } from '../lib/config.js';
import { makeNodegroupHandler } from '../lib/handlers/nodegroups.js';
import { lambda } from '../lib/handlers/lambda.js';

// Cold start: an invalid configuration fails here, naming the variable.
export const handler = lambda(makeNodegroupHandler(loadConfig()));
