// The queue consumer's verb for one item: make the one ModifyInstanceMetadataOptions call the item plans, or
// answer from the ledger, and say what the message should become (deleted, or retried after a delay).
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AuditRecord } from '../../domain/audit.js';
import { applyRemediation } from '../../domain/policy.js';
import type { Ledger } from '../../shell/ledger.js';
import { modifyMetadataOptions } from './aws.js';
import { isFreshLaunch } from './instance.js';
import { itemRecord, type QueueItem } from './queue-item.js';

export interface ConsumeContext {
  /** The EC2 client of a Region, acting in `account` (the item's; a hub's consumer assumes its member role). */
  ec2For: (region: string, account: string) => EC2Client;
  /** The queue's maxReceiveCount: the receive that may not fail quietly, because the next one is the DLQ. */
  maxReceives: number;
  ledger?: Ledger | undefined;
  now?: () => number;
  random?: () => number;
}

export type Consumed =
  /** A record to publish. `stored`: made by an earlier delivery whose Publish failed (no Modify now). */
  | { status: 'done'; record: AuditRecord; stored?: true }
  /** Published before: a duplicate delivery. Nothing to do. */
  | { status: 'duplicate' }
  /** Try again after `delaySeconds`. On the last receive `record` is the `failed` (or `gone`) record to publish. */
  | { status: 'retry'; delaySeconds: number; error: { name: string; message: string }; record?: AuditRecord };

/**
 * The growing delay before receive `n + 1`: 10 s, 20 s, 40 s … capped at 15 minutes, with ±20 % jitter so
 * items throttled together do not come back together.
 *
 * @example
 * retryDelaySeconds(1, () => 0.5) // 10
 * retryDelaySeconds(9, () => 0.5) // 900
 */
function retryDelaySeconds(receiveCount: number, random: () => number = Math.random): number {
  const base = Math.min(900, 10 * 2 ** Math.max(0, receiveCount - 1));
  return Math.max(1, Math.min(900, Math.round(base * (0.8 + 0.4 * random()))));
}

/** consume: one item of the remediation queue, `receiveCount` being SQS's ApproximateReceiveCount. */
export async function consume(item: QueueItem, receiveCount: number, ctx: ConsumeContext): Promise<Consumed> {
  const seen = ctx.ledger ? await ctx.ledger.get(item.id) : undefined;
  if (seen !== undefined && seen !== 'unavailable') {
    return seen.state === 'published' ? { status: 'duplicate' } : { status: 'done', record: seen.record, stored: true };
  }
  try {
    const res = await modifyMetadataOptions(ctx.ec2For(item.resource.region, item.resource.account), item.resource.id, item.change);
    const after = { ...applyRemediation(item.before, item.change), ...res.applied };
    const record = itemRecord(item, { outcome: 'remediated', after, ...(res.requestId ? { requestId: res.requestId } : {}) });
    await ctx.ledger?.modified(item.id, record);
    return { status: 'done', record };
  } catch (err) {
    return failure(item, receiveCount, err, ctx);
  }
}

function failure(item: QueueItem, receiveCount: number, err: unknown, ctx: ConsumeContext): Consumed {
  const e = err as { name?: string; message?: string; $metadata?: { requestId?: string } };
  const error = { name: e?.name ?? 'Error', message: firstLine(e?.message ?? String(err)) };
  const last = receiveCount >= ctx.maxReceives;
  const delaySeconds = retryDelaySeconds(receiveCount, ctx.random);
  if (error.name === 'InvalidInstanceID.NotFound') {
    // A launch EC2 does not show yet (eventual consistency) is tried again; anything else is terminated.
    const fresh = isFreshLaunch({ eventTime: item.trigger.eventTime }, item.trigger.eventName, ctx.now?.());
    if (fresh && !last) return { status: 'retry', delaySeconds, error };
    const reason = fresh ? `instance still not found after ${receiveCount} attempts; treated as terminated` : 'instance no longer exists';
    return { status: 'done', record: itemRecord(item, { outcome: 'gone', reason }) };
  }
  // A member account that refuses the role will refuse it again: failed now, naming the account and the role.
  const refused = error.name === 'MemberAccessError' && (err as { reason?: string }).reason === 'AccessDenied';
  if (!last && !refused) return { status: 'retry', delaySeconds, error };
  if (refused) return { status: 'done', record: itemRecord(item, { outcome: 'failed', error, reason: error.message }) };
  const requestId = e?.$metadata?.requestId;
  const record = itemRecord(item, {
    outcome: 'failed',
    error,
    reason: `ModifyInstanceMetadataOptions failed on all ${receiveCount} deliveries; the item goes to the dead-letter queue`,
    ...(requestId ? { requestId } : {}),
  });
  return { status: 'retry', delaySeconds, error, record };
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
