// The Lambda edge every function shares: Powertools context in logs, EMF metrics with cold starts.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics } from '../shell/observability.js';

export function lambda<E, R>(run: (event: E, context: Context) => Promise<R>) {
  return middy(run)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
