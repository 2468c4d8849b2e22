// Lambda: EventBridge (CloudTrail RunInstances / CreateFleet / ModifyInstanceMetadataOptions) -> enforce.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { loadConfig } from '../lib/config.js';
import { makeInstanceHandler } from '../lib/handlers/instances.js';
import { logger, metrics } from '../lib/observability.js';

// Cold start: an invalid configuration fails here, naming the variable.
const run = makeInstanceHandler(loadConfig());

export const handler = middy(run)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
