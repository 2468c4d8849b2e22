// The SQS queue model behind sandbox/services/sqs.ts: messages with delays, visibility timeouts, receive
// counts, receipt handles and redrive to a dead-letter queue. Wire shapes and validation live in sqs.ts.
import { createHash, randomUUID } from 'node:crypto';
import { AwsError } from '../errors.js';

export interface AttributeValue {
  DataType: string;
  StringValue?: string;
  /** Base64, as on the JSON wire. */
  BinaryValue?: string;
}

export interface SqsMessage {
  id: string;
  body: string;
  md5: string;
  attributes: Record<string, AttributeValue>;
  md5Attributes?: string;
  senderId: string;
  sentAt: number;
  /** Not deliverable before this time (ms): the send delay, then the visibility timeout. */
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** Receipt handle of the latest receive. */
  handle?: string;
  traceHeader?: string;
  deadLetterSourceArn?: string;
}

export interface Queue {
  name: string;
  region: string;
  accountId: string;
  arn: string;
  /** Settable attributes as strings, as SetQueueAttributes takes them. */
  attributes: Record<string, string>;
  created: number;
  modified: number;
  tags: Record<string, string>;
  messages: Map<string, SqsMessage>;
  lastPurge?: number;
  /** Long polls waiting for a message. */
  waiters: Set<() => void>;
}

export const DEFAULT_ATTRIBUTES: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '262144',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};

export const md5 = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');

/** MD5OfMessageAttributes as SQS computes it: names sorted, each length-prefixed name, type, transport byte and value. */
export function md5OfAttributes(attrs: Record<string, AttributeValue>): string | undefined {
  const names = Object.keys(attrs).sort();
  if (!names.length) return undefined;
  const parts: Buffer[] = [];
  const field = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  for (const name of names) {
    const a = attrs[name]!;
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(a.DataType, 'utf8'));
    const binary = a.BinaryValue !== undefined;
    parts.push(Buffer.from([binary ? 2 : 1]));
    field(binary ? Buffer.from(a.BinaryValue!, 'base64') : Buffer.from(a.StringValue ?? '', 'utf8'));
  }
  return md5(Buffer.concat(parts));
}

interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

function redrivePolicy(q: Queue): RedrivePolicy | undefined {
  const raw = q.attributes.RedrivePolicy;
  if (!raw) return undefined;
  const p = JSON.parse(raw) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
  return { deadLetterTargetArn: p.deadLetterTargetArn, maxReceiveCount: Number(p.maxReceiveCount) };
}

/** Receipt handles name the queue and message, plus a nonce so each receive gets a new one. */
function receiptHandle(q: Queue, m: SqsMessage): string {
  return Buffer.from(`${q.arn} ${m.id} ${randomUUID()}`).toString('base64url');
}

export function messageForHandle(q: Queue, handle: string): { id: string; message?: SqsMessage } {
  const [arn, id, nonce] = Buffer.from(handle, 'base64url').toString('utf8').split(' ');
  if (arn !== q.arn || !id || !nonce) {
    throw new AwsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`, 404);
  }
  return { id, message: q.messages.get(id) };
}

export interface Counts {
  visible: number;
  notVisible: number;
  delayed: number;
}

export function counts(q: Queue, now: number): Counts {
  const c: Counts = { visible: 0, notVisible: 0, delayed: 0 };
  for (const m of q.messages.values()) {
    if (m.visibleAt <= now) c.visible++;
    else if (m.receiveCount > 0) c.notVisible++;
    else c.delayed++;
  }
  return c;
}

/** Drops messages older than MessageRetentionPeriod. */
function expire(q: Queue, now: number): void {
  const keepMs = Number(q.attributes.MessageRetentionPeriod) * 1000;
  for (const [id, m] of q.messages) if (now - m.sentAt > keepMs) q.messages.delete(id);
}

export function wake(q: Queue): void {
  for (const w of [...q.waiters]) w();
}

export interface ReceiveOptions {
  max: number;
  visibilityMs: number;
  now: number;
  /** The dead-letter queue by ARN (same account and Region). */
  dlq: (arn: string) => Queue | undefined;
}

/**
 * Takes up to `max` visible messages and hides them for `visibilityMs`. A message already received
 * `maxReceiveCount` times moves to the dead-letter queue instead (at this receive, as SQS does).
 */
export function take(q: Queue, o: ReceiveOptions): SqsMessage[] {
  expire(q, o.now);
  const policy = redrivePolicy(q);
  const out: SqsMessage[] = [];
  for (const m of [...q.messages.values()]) {
    if (out.length >= o.max) break;
    if (m.visibleAt > o.now) continue;
    const dlq = policy && m.receiveCount >= policy.maxReceiveCount ? o.dlq(policy.deadLetterTargetArn) : undefined;
    if (dlq) {
      q.messages.delete(m.id);
      dlq.messages.set(m.id, { ...m, handle: undefined, deadLetterSourceArn: q.arn });
      wake(dlq);
      continue;
    }
    m.receiveCount++;
    m.firstReceiveAt ??= o.now;
    m.visibleAt = o.now + o.visibilityMs;
    m.handle = receiptHandle(q, m);
    out.push(m);
  }
  return out;
}

/** Earliest time a currently hidden message becomes visible, if any. */
export function nextVisible(q: Queue, now: number): number | undefined {
  let next: number | undefined;
  for (const m of q.messages.values()) if (m.visibleAt > now && (next === undefined || m.visibleAt < next)) next = m.visibleAt;
  return next;
}
