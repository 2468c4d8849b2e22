// The reconciliation sweep's mark on the remediation queue: `imds-guard doctor` reads the last sweep's time.
import { TagQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { LAST_SWEEP_TAG } from './doctor/facts.js';

/**
 * Stamp `imds-guard:last-sweep=<ISO time>` on the queue (TagQueue). Throws on failure: a sweep that cannot
 * say it ran fails its invocation (and the backfill's Errors alarm), never silently.
 *
 * @example
 * await stampLastSweep(sqs, process.env.REMEDIATION_QUEUE_URL!, new Date());
 */
export async function stampLastSweep(sqs: SQSClient, queueUrl: string, at: Date): Promise<void> {
  await sqs.send(new TagQueueCommand({ QueueUrl: queueUrl, Tags: { [LAST_SWEEP_TAG]: at.toISOString() } }));
}
