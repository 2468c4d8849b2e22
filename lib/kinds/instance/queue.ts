// SQS effects of the remediation queue: enqueue planned changes, delay a retry.
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueItem } from './queue-item.js';

/** SendMessageBatch takes at most 10 entries. */
const BATCH = 10;

class EnqueueError extends Error {
  override name = 'EnqueueError';
}

/**
 * Send every item, 10 per call; entries SQS refuses are sent once more, then the call throws naming them, so
 * the invocation fails and is retried (never a silent drop).
 *
 * @example
 * await enqueue(sqs, process.env.REMEDIATION_QUEUE_URL!, items);
 */
export async function enqueue(sqs: SQSClient, queueUrl: string, items: QueueItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) {
    let batch = items.slice(i, i + BATCH);
    for (let attempt = 1; batch.length > 0; attempt++) {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((item, n) => ({ Id: String(n), MessageBody: JSON.stringify(item) })),
        }),
      );
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      const refused = batch.filter((_, n) => failed.has(String(n)));
      if (refused.length && attempt >= 2) {
        const why = (out.Failed ?? []).map((f) => `${f.Code}: ${f.Message ?? ''}`).join('; ');
        throw new EnqueueError(
          `SQS refused ${refused.length} remediation item(s) (${refused.map((r) => r.resource.id).join(', ')}): ${why}`,
        );
      }
      batch = refused;
    }
  }
}

/** Make a received message visible again only after `seconds` (the growing retry delay). */
export async function delayMessage(sqs: SQSClient, queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
}
