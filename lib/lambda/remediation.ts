// remediate-instances: the remediation queue's consumer. Each SQS message is one planned instance change;
// Powertools Batch reports the items that must come back (partial batch response), so a throttled item never
// holds the others. The EC2 bucket is shared with the other consumers: each takes 1/QUEUE_CONCURRENCY of it.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AuditRecord } from '../domain/audit.js';
import { EC2_BUCKETS } from '../domain/ec2-limits.js';
import { consume, type ConsumeContext } from '../kinds/instance/consume.js';
import { delayMessage } from '../kinds/instance/queue.js';
import { parseQueueItem, type QueueItem } from '../kinds/instance/queue-item.js';
import { renderOwnerMessages } from '../report/message.js';
import { publishMessages } from '../report/sns.js';
import { auditStoreFor, keepRecords } from '../shell/audit-store.js';
import { ec2Client, regionOfArn, snsClient } from '../shell/clients.js';
import { loadConfig, requireQueue, requireTopic, type Config } from '../shell/config.js';
import { Ledger } from '../shell/ledger.js';
import { logger, metrics, recordAudit } from '../shell/observability.js';
import { RateLimiter } from '../shell/rate-limit.js';
import { accessFor, actingIn } from '../shell/region-context.js';
import { lambda } from './wrap.js';

/** SDK attempts per Modify: few, because a throttled item is retried through the queue with a growing delay. */
const CONSUMER_ATTEMPTS = 3;

class RetryLater extends Error {
  override name = 'RetryLater';
}

interface Made {
  messageId: string;
  itemId: string;
  record: AuditRecord;
}

/** This consumer's share of the Region's ModifyInstanceMetadataOptions bucket. */
export function bucketShare(concurrency: number) {
  const b = EC2_BUCKETS.ModifyInstanceMetadataOptions;
  return {
    ModifyInstanceMetadataOptions: {
      capacity: Math.max(1, Math.floor(b.capacity / concurrency)),
      refillPerSecond: b.refillPerSecond / concurrency,
    },
  };
}

/**
 * @example
 * export const handler = remediationFunction();
 */
export function makeRemediationHandler(config: Config, limiter = new RateLimiter({ buckets: bucketShare(config.QUEUE_CONCURRENCY) })) {
  const topicArn = requireTopic(config);
  const queueUrl = requireQueue(config);
  const home = process.env.AWS_REGION ?? regionOfArn(topicArn);
  const sqs = new SQSClient({ region: home, retryMode: 'adaptive', maxAttempts: config.MAX_ATTEMPTS });
  const sns = snsClient(regionOfArn(topicArn), { maxAttempts: config.MAX_ATTEMPTS });
  const ledger = config.IDEMPOTENCY_TABLE
    ? new Ledger(new DynamoDBClient({ region: home, maxAttempts: 2 }), config.IDEMPOTENCY_TABLE)
    : undefined;
  const store = auditStoreFor(config, home);
  const ctx: ConsumeContext = {
    // Standard retry: the limiter already paces the calls and the queue retries with a growing delay.
    // In a hub, the item's account through its member role, with that account's share of its own buckets.
    ec2For: (region, account) => {
      const access = accessFor(config, actingIn(config, account));
      const plugins = [limiter.plugin(region, access?.id)];
      return ec2Client(region, { maxAttempts: CONSUMER_ATTEMPTS, retryMode: 'standard', plugins, ...(access ? { account: access } : {}) });
    },
    maxReceives: config.MAX_RECEIVES,
    ledger,
  };

  const shared: Shared = { ctx, sqs, queueUrl, maxHopLimit: config.MAX_HOP_LIMIT };
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const batch: Batch = { made: [], seen: new Set() };
    const made = batch.made;
    const handleRecord = (rec: SQSRecord) => consumeRecord(rec, shared, batch);
    const processed = await processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
    // A copy: Powertools hands back a shared empty response when nothing failed.
    const response: SQSBatchResponse = { batchItemFailures: [...processed.batchItemFailures] };
    await publish(made, response);
    return response;
  };

  async function publish(made: Made[], response: SQSBatchResponse): Promise<void> {
    const retried = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const all = made.map((m) => m.record);
    const records = all.filter((r) => config.PUBLISH_OUTCOMES.includes(r.outcome));
    // Kept whatever the publish does (keepRecords never throws; a redelivery writes the same items again).
    const kept = keepRecords(store, all);
    try {
      await publishMessages(sns, topicArn, renderOwnerMessages(records, store ? { auditTable: store.ref } : {}));
      await kept;
    } catch (err) {
      // The ledger still says `modified`: the redelivery publishes these without a second Modify.
      await kept;
      const e = err as Error;
      logger.error('publish failed: the items come back and are published then', { error: { name: e.name, message: e.message } });
      for (const m of made) if (!retried.has(m.messageId)) response.batchItemFailures.push({ itemIdentifier: m.messageId });
      return;
    }
    const done = made.filter((m) => !retried.has(m.messageId));
    await Promise.all(done.map((m) => ledger?.published(m.itemId)));
  }
}

interface Shared {
  ctx: ConsumeContext;
  sqs: SQSClient;
  queueUrl: string;
  maxHopLimit: number;
}

/** One invocation's batch: the records made so far, and the items seen (a second copy is dropped). */
interface Batch {
  made: Made[];
  seen: Set<string>;
}

/** The queue item of a message, or undefined when it is to be dropped: malformed, foreign, or a second copy. */
function accept(rec: SQSRecord, s: Shared, b: Batch): QueueItem | undefined {
  const parsed = parseQueueItem(rec.body, s.maxHopLimit);
  if (!parsed.ok) {
    // Deleted, not retried: a foreign or malformed message must never block the batch.
    logger.error('rejected queue message', { rejection: { reason: parsed.reason, messageId: rec.messageId, issues: parsed.issues } });
    metrics.addMetric('rejectedQueueMessages', MetricUnit.Count, 1);
    return undefined;
  }
  // The same item twice in one batch: the records run in parallel, so the ledger cannot tell them apart.
  if (b.seen.has(parsed.item.id)) {
    logger.info('duplicate queue delivery in the same batch', { item: parsed.item.id });
    metrics.addMetric('duplicateItems', MetricUnit.Count, 1);
    return undefined;
  }
  b.seen.add(parsed.item.id);
  return parsed.item;
}

/** One message: consume its item; a retry is delayed (growing) and reported as a batch item failure. */
async function consumeRecord(rec: SQSRecord, s: Shared, b: Batch): Promise<void> {
  const item = accept(rec, s, b);
  if (!item) return;
  const out = await consume(item, Number(rec.attributes?.ApproximateReceiveCount ?? '1'), s.ctx);
  if (out.status === 'duplicate') {
    logger.info('duplicate queue delivery: already remediated and published', { item: item.id });
    metrics.addMetric('duplicateItems', MetricUnit.Count, 1);
    return;
  }
  if (out.record) {
    // Logged as soon as it is decided: the log line is the record even if Publish fails later.
    if (!(out.status === 'done' && out.stored)) recordAudit(out.record);
    b.made.push({ messageId: rec.messageId, itemId: item.id, record: out.record });
  }
  if (out.status === 'retry') {
    logger.warn('remediation will be retried', { item: item.id, delaySeconds: out.delaySeconds, error: out.error });
    metrics.addMetric('retriedItems', MetricUnit.Count, 1);
    await delayMessage(s.sqs, s.queueUrl, rec.receiptHandle, out.delaySeconds).catch((err: Error) =>
      logger.warn('could not delay the retry: the queue visibility timeout applies', { item: item.id, error: err.name }),
    );
    throw new RetryLater(`${out.error.name}: ${out.error.message}`);
  }
}

/** The remediate-instances Lambda: configuration read at cold start, then the Powertools/middy edge. */
export function remediationFunction() {
  return lambda(makeRemediationHandler(loadConfig()));
}
