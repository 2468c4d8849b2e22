// Lambda: EventBridge (CloudTrail CreateLaunchTemplate / CreateLaunchTemplateVersion / ModifyLaunchTemplate) -> enforce.
import { loadConfig } from '../lib/shell/config.js';
import { makeTemplateHandler } from '../lib/lambda/templates.js';
import { lambda } from '../lib/lambda/wrap.js';

// Cold start: an invalid configuration fails here, naming the variable.
export const handler = lambda(makeTemplateHandler(loadConfig()));
