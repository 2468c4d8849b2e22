// Lambda: EventBridge (CloudTrail CreateLaunchTemplate / CreateLaunchTemplateVersion / ModifyLaunchTemplate) -> enforce.
import { loadConfig } from '../lib/config.js';
import { makeTemplateHandler } from '../lib/handlers/templates.js';
import { lambda } from '../lib/handlers/lambda.js';

// Cold start: an invalid configuration fails here, naming the variable.
export const handler = lambda(makeTemplateHandler(loadConfig()));
