// Lambda: EventBridge (CloudTrail RunInstances / CreateFleet / ModifyInstanceMetadataOptions) -> enforce.
import { loadConfig } from '../lib/config.js';
import { makeInstanceHandler } from '../lib/handlers/instances.js';
import { lambda } from '../lib/handlers/lambda.js';

// Cold start: an invalid configuration fails here, naming the variable.
export const handler = lambda(makeInstanceHandler(loadConfig()));
