// Lambda: EventBridge (CloudTrail RunInstances / CreateFleet / ModifyInstanceMetadataOptions) -> enforce.
import { loadConfig } from '../lib/shell/config.js';
import { makeInstanceHandler } from '../lib/lambda/instances.js';
import { lambda } from '../lib/lambda/wrap.js';

// Cold start: an invalid configuration fails here, naming the variable.
export const handler = lambda(makeInstanceHandler(loadConfig()));
