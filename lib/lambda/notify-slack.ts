// notify-slack: SNS audit message -> per-owner Slack webhook. Bad input is skipped; failed posts fail the invocation.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SNSEvent } from 'aws-lambda';
import { loadConfig, type Config } from '../shell/config.js';
import { logger, metrics } from '../shell/observability.js';
import { loadSlackConfig } from '../report/slack/config.js';
import { idempotentRun, SNS_MESSAGE_KEY } from './idempotency.js';
import { lambda } from './wrap.js';
import { renderSlackMessage } from '../report/slack/blocks.js';
import type { SlackConfig } from '../report/slack/config.js';
import { parseSnsMessage } from '../report/slack/input.js';
import { groupByTriggerAndOwner, type OwnerBatch } from '../report/group.js';
import { postToSlack, SlackPostError, type PostOptions } from '../report/slack/post.js';
import { describeError, readWebhookUrl, webhookFor } from '../report/slack/webhooks.js';

export interface Delivery {
  owner: string;
  /** The parameter reference (a name), never the URL. */
  parameter?: string;
  records: number;
  status: 'posted' | 'failed' | 'unrouted';
  attempts?: number;
  httpStatus?: number;
  error?: string;
}

export interface NotifySummary {
  messages: number;
  invalid: number;
  deliveries: Delivery[];
}

class SlackDeliveryError extends Error {
  override name = 'SlackDeliveryError';
}

export interface NotifyDeps {
  sleep?: PostOptions['sleep'];
  /** The audit topic: records from any other topic are dropped with a log line (issue 17, attack 3). */
  topicArn?: string;
}

/** Keep this much of the invocation for logging and metrics after the last retry. */
const SAFETY_MS = 5_000;

export function makeNotifySlackHandler(config: SlackConfig, deps: NotifyDeps = {}) {
  return async (event: SNSEvent, context?: Context): Promise<NotifySummary> => {
    const batches: OwnerBatch[] = [];
    let invalid = 0;
    // One stack publishes to the topic, so every message names the same audit store (when there is one).
    let auditTable: string | undefined;
    for (const rec of event?.Records ?? []) {
      if (deps.topicArn !== undefined && rec?.Sns?.TopicArn !== deps.topicArn) {
        logger.warn('dropped SNS record from another topic', {
          rejection: { reason: 'foreign-topic', messageId: rec?.Sns?.MessageId, topicArn: String(rec?.Sns?.TopicArn ?? '') },
        });
        metrics.addMetric('slackForeignMessages', MetricUnit.Count, 1);
        continue;
      }
      const parsed = parseSnsMessage(String(rec?.Sns?.Message ?? ''), rec?.Sns?.MessageAttributes?.owner?.Value);
      if (parsed.kind === 'invalid') {
        // A retry would fail the same way: log, count, skip.
        invalid++;
        logger.error('rejected SNS message', {
          rejection: { reason: 'invalid-message', messageId: rec?.Sns?.MessageId, message: parsed.message, issues: parsed.issues },
        });
        metrics.addMetric('slackInvalidMessages', MetricUnit.Count, 1);
        continue;
      }
      batches.push(...parsed.batches);
      auditTable ??= parsed.auditTable;
    }
    // SNS delivers one record per invocation today; regroup anyway so a batch never splits an owner's trigger.
    const groups = groupByTriggerAndOwner(
      batches.flatMap((b) => b.records.map((r) => ({ ...r, resource: { ...r.resource, owner: b.owner } }))),
    );

    const deadline = context ? Date.now() + context.getRemainingTimeInMillis() - SAFETY_MS : undefined;
    const deliveries: Delivery[] = [];
    for (const g of groups)
      deliveries.push(await deliver(g, config, { ...deps, ...(deadline !== undefined ? { deadline } : {}), auditTable }));

    const failed = deliveries.filter((d) => d.status === 'failed');
    if (failed.length) {
      // Throw after trying everyone: the async retry, then the on-failure queue, keeps the event.
      throw new SlackDeliveryError(`Slack delivery failed for owner(s) ${[...new Set(failed.map((d) => d.owner))].join(', ')}`);
    }
    return { messages: groups.length, invalid, deliveries };
  };
}

type DeliverOpts = NotifyDeps & { deadline?: number; auditTable?: string | undefined };

async function deliver(g: OwnerBatch, config: SlackConfig, opts: DeliverOpts): Promise<Delivery> {
  const base = { owner: g.owner, records: g.records.length };
  const route = webhookFor(g.owner, config);
  if (!route) {
    // Not an error to retry: nobody configured a channel for this owner.
    logger.warn('no Slack webhook for owner', { slack: base });
    metrics.addMetric('slackUnrouted', MetricUnit.Count, 1);
    return { ...base, status: 'unrouted' };
  }
  const parameter = route.ref.ref;
  try {
    const url = await readWebhookUrl(route.ref, config.cacheSeconds);
    const msg = renderSlackMessage(g.records, g.owner, opts.auditTable ? { auditTable: opts.auditTable } : {});
    const res = await postToSlack(
      url,
      { ...msg, unfurl_links: false, unfurl_media: false },
      {
        maxAttempts: config.maxAttempts,
        ...opts,
        onRetry: (r) => logger.warn('Slack post retry', { slack: { ...base, parameter, ...r } }),
      },
    );
    logger.info('Slack message posted', {
      slack: { ...base, parameter, source: route.source, attempts: res.attempts, blocks: msg.blocks.length },
    });
    metrics.addMetric('slackPosted', MetricUnit.Count, 1);
    return { ...base, parameter, status: 'posted', attempts: res.attempts };
  } catch (err) {
    const error = describeError(err);
    const post =
      err instanceof SlackPostError ? { attempts: err.attempts, ...(err.status !== undefined ? { httpStatus: err.status } : {}) } : {};
    logger.error('Slack delivery failed', { slack: { ...base, parameter, ...post, error } });
    metrics.addMetric('slackFailed', MetricUnit.Count, 1);
    return { ...base, parameter, status: 'failed', ...post, error };
  }
}

/**
 * The notify-slack function: configurations read at cold start; a redelivered SNS message does not post twice.
 *
 * @example
 * export const handler = notifySlackFunction(); // functions/notify-slack.ts
 */
export function notifySlackFunction(config: Config = loadConfig(), slack: SlackConfig = loadSlackConfig()) {
  // The stack always sets TOPIC_ARN; without it (local runs) every topic is accepted, said once at cold start.
  if (!config.TOPIC_ARN) logger.warn('TOPIC_ARN is not set: notify-slack accepts SNS records from any topic');
  const notify = makeNotifySlackHandler(slack, config.TOPIC_ARN ? { topicArn: config.TOPIC_ARN } : {});
  const run = idempotentRun(config, (event, context) => notify(event as SNSEvent, context), SNS_MESSAGE_KEY);
  return lambda((event: SNSEvent, context: Context) => run(event, context, undefined));
}
