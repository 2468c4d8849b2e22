// Lambda: SNS audit topic -> Slack incoming webhooks, one per owner (default webhook as fallback).
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SNSEvent } from 'aws-lambda';
import { loadConfig } from '../lib/shell/config.js';
import { idempotentRun, SNS_MESSAGE_KEY } from '../lib/lambda/idempotency.js';
import { makeNotifySlackHandler } from '../lib/lambda/notify-slack.js';
import { logger, metrics } from '../lib/shell/observability.js';
import { loadSlackConfig } from '../lib/report/slack/config.js';

// Cold start: an invalid configuration fails here, naming the variable.
const notify = makeNotifySlackHandler(loadSlackConfig());
// A redelivered SNS message must not post to Slack twice.
const run = idempotentRun(loadConfig(), (event, context) => notify(event as SNSEvent, context), SNS_MESSAGE_KEY);

export const handler = middy((event: SNSEvent, context: Context) => run(event, context, undefined))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
