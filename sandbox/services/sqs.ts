// SQS (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.<Op>`, query-compatible errors): standard queues with
// delays, visibility timeouts, long polling (awaited, never blocking the event loop), receive counts,
// redrive to a dead-letter queue and batches. FIFO queues fail loudly as unsupported.
// Queue URLs are http://<host the client used>/<account>/<name>; the Region comes from the SigV4 scope.
import { AwsError } from '../errors.js';
import type { Ctx } from '../runtime.js';
import { page } from './paging.js';
import {
  counts,
  DEFAULT_ATTRIBUTES,
  md5,
  md5OfAttributes,
  messageForHandle,
  nextVisible,
  take,
  wake,
  type AttributeValue,
  type Queue,
  type SqsMessage,
} from './sqs-queue.js';

export type { Queue, SqsMessage };

export interface SqsOptions {
  /** Divides every SQS duration (delays, visibility timeouts, long-poll waits) by this factor. Default 1. */
  timeScale?: number;
}

/** What the HTTP layer knows about the caller. */
export interface SqsCaller {
  /** `Host` header, for queue URLs. */
  host: string;
  /** The SigV4 access key ID (SenderId). */
  senderId: string;
}

const invalid = (m: string) => new AwsError('InvalidParameterValue', m);
const missing = (name: string) => new AwsError('MissingParameter', `The request must contain the parameter ${name}.`);
const NAME_RE = /^[A-Za-z0-9_-]{1,80}$/;
const SETTABLE = new Set([
  ...Object.keys(DEFAULT_ATTRIBUTES),
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
]);
const RANGES: Record<string, [number, number]> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1048576],
  MessageRetentionPeriod: [60, 1209600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43200],
  KmsDataKeyReusePeriodSeconds: [60, 86400],
};
// Characters SQS accepts in a body or string attribute.
const BAD_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export class Sqs {
  private queues = new Map<string, Queue>();
  private deleted = new Map<string, number>();
  private closed = false;
  private msPerSecond: number;

  constructor(opts: SqsOptions = {}) {
    this.msPerSecond = 1000 / (opts.timeScale ?? 1);
  }

  configure(opts: SqsOptions): void {
    this.msPerSecond = 1000 / (opts.timeScale ?? 1);
  }

  reset(): void {
    for (const q of this.queues.values()) wake(q);
    this.queues.clear();
    this.deleted.clear();
  }

  /** Ends pending long polls (server shutdown). */
  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) wake(q);
  }

  /** A queue's model by Region and name, for assertions. */
  queue(region: string, name: string): Queue | undefined {
    return this.queues.get(`${region}/${name}`);
  }

  async handle(ctx: Ctx, op: string, input: any, caller: SqsCaller): Promise<unknown> {
    const q = () => this.byUrl(ctx, input.QueueUrl);
    switch (op) {
      case 'CreateQueue':
        return { QueueUrl: this.url(caller, this.create(ctx, input)) };
      case 'GetQueueUrl':
        return { QueueUrl: this.url(caller, this.byName(ctx, input.QueueName, input.QueueOwnerAWSAccountId)) };
      case 'DeleteQueue':
        return this.deleteQueue(q());
      case 'ListQueues':
        return this.list(ctx, input, caller);
      case 'GetQueueAttributes':
        return { Attributes: this.attributesOf(q(), input.AttributeNames ?? []) };
      case 'SetQueueAttributes':
        return this.setAttributes(ctx, q(), input.Attributes ?? {});
      case 'TagQueue':
        Object.assign(q().tags, input.Tags ?? {});
        return {};
      case 'UntagQueue': {
        const tags = q().tags;
        for (const k of input.TagKeys ?? []) delete tags[k];
        return {};
      }
      case 'ListQueueTags':
        return { Tags: { ...q().tags } };
      case 'PurgeQueue':
        return this.purge(q());
      case 'SendMessage':
        return this.send(ctx, q(), input, caller);
      case 'SendMessageBatch':
        return this.sendBatch(ctx, q(), input, caller);
      case 'ReceiveMessage':
        return this.receive(ctx, q(), input);
      case 'DeleteMessage':
        this.deleteMessage(q(), str(input.ReceiptHandle, 'ReceiptHandle'));
        return {};
      case 'DeleteMessageBatch':
        return batch(input.Entries, (e) => {
          this.deleteMessage(q(), str(e.ReceiptHandle, 'ReceiptHandle'));
          return {};
        });
      case 'ChangeMessageVisibility':
        this.changeVisibility(q(), input);
        return {};
      case 'ChangeMessageVisibilityBatch':
        return batch(input.Entries, (e) => {
          this.changeVisibility(q(), e);
          return {};
        });
      default:
        throw new AwsError('UnsupportedOperation', `SQS operation ${op} is not implemented by the imds-guard sandbox`);
    }
  }

  private url(caller: SqsCaller, q: Queue): string {
    return `http://${caller.host}/${q.accountId}/${q.name}`;
  }

  private byUrl(ctx: Ctx, queueUrl: unknown): Queue {
    let path: string[];
    try {
      path = new URL(str(queueUrl, 'QueueUrl')).pathname.split('/').filter(Boolean);
    } catch (e) {
      if (e instanceof AwsError) throw e;
      throw new AwsError('InvalidAddress', `The address ${String(queueUrl)} is not valid for this endpoint.`, 404);
    }
    const q = path.length === 2 ? this.queues.get(`${ctx.region}/${path[1]}`) : undefined;
    if (!q || q.accountId !== path[0]) throw notFound();
    return q;
  }

  private byName(ctx: Ctx, name: unknown, owner?: string): Queue {
    const q = this.queues.get(`${ctx.region}/${str(name, 'QueueName')}`);
    if (!q || (owner && owner !== q.accountId)) throw notFound();
    return q;
  }

  private create(ctx: Ctx, input: any): Queue {
    const name = str(input.QueueName, 'QueueName');
    const attrs: Record<string, string> = input.Attributes ?? {};
    if (name.endsWith('.fifo') || attrs.FifoQueue === 'true') {
      throw new AwsError('UnsupportedOperation', 'FIFO queues are not implemented by the imds-guard sandbox', 400);
    }
    if (!NAME_RE.test(name)) {
      throw invalid('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
    }
    const key = `${ctx.region}/${name}`;
    const existing = this.queues.get(key);
    if (existing) {
      const differs = Object.entries(attrs).some(([k, v]) => (existing.attributes[k] ?? DEFAULT_ATTRIBUTES[k]) !== v);
      if (differs)
        throw new AwsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute(s)`);
      return existing;
    }
    const deletedAt = this.deleted.get(key);
    if (deletedAt !== undefined && Date.now() - deletedAt < 60_000) {
      throw new AwsError(
        'QueueDeletedRecently',
        'You must wait 60 seconds after deleting a queue before you can create another with the same name.',
      );
    }
    const now = Date.now();
    const accountId = ctx.rt.state.accountId;
    const q: Queue = {
      name,
      region: ctx.region,
      accountId,
      arn: `arn:aws:sqs:${ctx.region}:${accountId}:${name}`,
      attributes: { ...DEFAULT_ATTRIBUTES },
      created: now,
      modified: now,
      tags: { ...input.tags },
      messages: new Map(),
      waiters: new Set(),
    };
    this.applyAttributes(ctx, q, attrs);
    this.queues.set(key, q);
    return q;
  }

  private deleteQueue(q: Queue): unknown {
    const key = `${q.region}/${q.name}`;
    this.queues.delete(key);
    this.deleted.set(key, Date.now());
    wake(q);
    return {};
  }

  private list(ctx: Ctx, input: any, caller: SqsCaller): unknown {
    const prefix: string = input.QueueNamePrefix ?? '';
    const all = [...this.queues.values()].filter((q) => q.region === ctx.region && q.name.startsWith(prefix));
    const max = input.MaxResults;
    if (max !== undefined && (max < 1 || max > 1000))
      throw invalid('Value for parameter MaxResults is invalid. Reason: must be between 1 and 1000.');
    const p = page(all, max ?? (input.NextToken ? 1000 : undefined), input.NextToken, `sqs/${ctx.region}/${prefix}`, () =>
      invalid('Invalid NextToken value.'),
    );
    const urls = p.items.slice(0, 1000).map((q) => this.url(caller, q));
    return { ...(urls.length ? { QueueUrls: urls } : {}), ...(p.next ? { NextToken: p.next } : {}) };
  }

  private attributesOf(q: Queue, names: string[]): Record<string, string> {
    const c = counts(q, Date.now());
    const all: Record<string, string> = {
      ...q.attributes,
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(c.visible),
      ApproximateNumberOfMessagesNotVisible: String(c.notVisible),
      ApproximateNumberOfMessagesDelayed: String(c.delayed),
      CreatedTimestamp: String(Math.floor(q.created / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.modified / 1000)),
    };
    if (names.includes('All')) return all;
    const out: Record<string, string> = {};
    for (const n of names) {
      if (!(n in all) && !SETTABLE.has(n) && n !== 'FifoQueue') throw new AwsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
      if (all[n] !== undefined) out[n] = all[n]!;
    }
    return out;
  }

  private setAttributes(ctx: Ctx, q: Queue, attrs: Record<string, string>): unknown {
    this.applyAttributes(ctx, q, attrs);
    q.modified = Date.now();
    return {};
  }

  private applyAttributes(ctx: Ctx, q: Queue, attrs: Record<string, string>): void {
    for (const [k, v] of Object.entries(attrs)) {
      if (!SETTABLE.has(k)) throw new AwsError('InvalidAttributeName', `Unknown Attribute ${k}.`);
      const range = RANGES[k];
      if (range && !(/^\d+$/.test(v) && Number(v) >= range[0] && Number(v) <= range[1])) {
        throw new AwsError('InvalidAttributeValue', `Invalid value for the parameter ${k}.`);
      }
      if (k === 'RedrivePolicy' && v !== '') {
        q.attributes[k] = this.checkRedrive(ctx, v);
        continue;
      }
      if (v === '' && (k === 'RedrivePolicy' || k === 'Policy' || k === 'KmsMasterKeyId')) delete q.attributes[k];
      else q.attributes[k] = v;
    }
  }

  private checkRedrive(ctx: Ctx, raw: string): string {
    const bad = (why: string) =>
      new AwsError('InvalidAttributeValue', `Value ${raw} for parameter RedrivePolicy is invalid. Reason: ${why}`);
    let p: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    try {
      p = JSON.parse(raw) as typeof p;
    } catch {
      throw bad('Redrive policy is not a valid JSON map.');
    }
    const max = Number(p.maxReceiveCount);
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw bad('Invalid value for maxReceiveCount: must be an integer from 1 to 1000.');
    const arn = String(p.deadLetterTargetArn ?? '');
    const name = arn.split(':')[5] ?? '';
    const target = this.queues.get(`${ctx.region}/${name}`);
    if (!target || target.arn !== arn) throw bad('Dead-letter target does not exist.');
    return JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: max });
  }

  private purge(q: Queue): unknown {
    const now = Date.now();
    if (q.lastPurge !== undefined && now - q.lastPurge < 60_000) {
      throw new AwsError('PurgeQueueInProgress', `Only one PurgeQueue operation on ${q.name} is allowed every 60 seconds.`, 403);
    }
    q.lastPurge = now;
    q.messages.clear();
    return {};
  }

  private newMessage(ctx: Ctx, q: Queue, e: any, caller: SqsCaller): SqsMessage {
    const body = str(e.MessageBody, 'MessageBody');
    if (!body.length) throw invalid('The request must contain the parameter MessageBody.');
    if (BAD_CHARS.test(body)) {
      throw new AwsError(
        'InvalidMessageContents',
        'Invalid characters found. Valid values are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
      );
    }
    const attributes = checkAttributes(e.MessageAttributes ?? {});
    const size = Buffer.byteLength(body) + attributesSize(attributes);
    const maxSize = Number(q.attributes.MaximumMessageSize);
    if (size > maxSize) throw invalid(`One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`);
    const delay = e.DelaySeconds ?? Number(q.attributes.DelaySeconds);
    if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
      throw invalid(`Value ${delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`);
    }
    const now = Date.now();
    const traceHeader = e.MessageSystemAttributes?.AWSTraceHeader?.StringValue;
    return {
      id: ctx.rt.state.ids.uuid(),
      body,
      md5: md5(body),
      attributes,
      md5Attributes: md5OfAttributes(attributes),
      senderId: caller.senderId,
      sentAt: now,
      visibleAt: now + delay * this.msPerSecond,
      receiveCount: 0,
      ...(traceHeader ? { traceHeader } : {}),
    };
  }

  private send(ctx: Ctx, q: Queue, input: any, caller: SqsCaller): unknown {
    const m = this.newMessage(ctx, q, input, caller);
    q.messages.set(m.id, m);
    wake(q);
    return { MessageId: m.id, MD5OfMessageBody: m.md5, ...(m.md5Attributes ? { MD5OfMessageAttributes: m.md5Attributes } : {}) };
  }

  private sendBatch(ctx: Ctx, q: Queue, input: any, caller: SqsCaller): unknown {
    const total = (input.Entries ?? []).reduce((n: number, e: any) => n + Buffer.byteLength(String(e.MessageBody ?? '')), 0);
    if (total > Number(q.attributes.MaximumMessageSize)) {
      throw new AwsError('BatchRequestTooLong', `Batch requests cannot be longer than ${q.attributes.MaximumMessageSize} bytes.`);
    }
    return batch(input.Entries, (e) => {
      const m = this.newMessage(ctx, q, e, caller);
      q.messages.set(m.id, m);
      wake(q);
      return { MessageId: m.id, MD5OfMessageBody: m.md5, ...(m.md5Attributes ? { MD5OfMessageAttributes: m.md5Attributes } : {}) };
    });
  }

  private async receive(ctx: Ctx, q: Queue, input: any): Promise<unknown> {
    const max = input.MaxNumberOfMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw invalid(`Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`);
    }
    const vis = input.VisibilityTimeout ?? Number(q.attributes.VisibilityTimeout);
    if (!Number.isInteger(vis) || vis < 0 || vis > 43200) {
      throw invalid(`Value ${vis} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`);
    }
    const wait = input.WaitTimeSeconds ?? Number(q.attributes.ReceiveMessageWaitTimeSeconds);
    if (!Number.isInteger(wait) || wait < 0 || wait > 20) {
      throw invalid(`Value ${wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`);
    }
    const deadline = Date.now() + wait * this.msPerSecond;
    const dlq = (arn: string) => {
      const t = this.queues.get(`${ctx.region}/${arn.split(':')[5]}`);
      return t?.arn === arn ? t : undefined;
    };
    for (;;) {
      const now = Date.now();
      const got = take(q, { max, visibilityMs: vis * this.msPerSecond, now, dlq });
      if (got.length || now >= deadline || this.closed || this.queues.get(`${q.region}/${q.name}`) !== q) {
        const system = [...(input.MessageSystemAttributeNames ?? []), ...(input.AttributeNames ?? [])];
        const wanted = input.MessageAttributeNames ?? [];
        return { Messages: got.map((m) => view(m, system, wanted)) };
      }
      await this.until(q, Math.min(deadline, nextVisible(q, now) ?? deadline) - now);
    }
  }

  private until(q: Queue, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        q.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      q.waiters.add(done);
    });
  }

  private deleteMessage(q: Queue, handle: string): void {
    const { id } = messageForHandle(q, handle);
    q.messages.delete(id); // A deleted message's handle still succeeds, as in SQS.
  }

  private changeVisibility(q: Queue, e: any): void {
    const handle = str(e.ReceiptHandle, 'ReceiptHandle');
    const t = e.VisibilityTimeout;
    if (!Number.isInteger(t) || t < 0 || t > 43200) {
      throw invalid(`Value ${t} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`);
    }
    const { message: m } = messageForHandle(q, handle);
    const now = Date.now();
    if (!m || m.receiveCount === 0 || m.visibleAt <= now) {
      throw new AwsError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.');
    }
    m.visibleAt = now + t * this.msPerSecond;
    if (t === 0) wake(q);
  }
}

function notFound(): AwsError {
  return new AwsError('QueueDoesNotExist', 'The specified queue does not exist.');
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string') throw missing(name);
  return v;
}

/** Batch entries: 1 to 10 with distinct valid ids; per-entry AWS errors become `Failed` entries. */
function batch(entries: any[] | undefined, each: (e: any) => Record<string, unknown>): unknown {
  if (!entries?.length) throw new AwsError('EmptyBatchRequest', 'There should be at least one entry in the request.');
  if (entries.length > 10)
    throw new AwsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
  const ids = entries.map((e) => String(e.Id ?? ''));
  if (new Set(ids).size !== ids.length)
    throw new AwsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
  const badId = ids.find((id) => !/^[A-Za-z0-9_-]{1,80}$/.test(id));
  if (badId !== undefined)
    throw new AwsError(
      'InvalidBatchEntryId',
      `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.`,
    );
  const Successful: unknown[] = [];
  const Failed: unknown[] = [];
  for (const e of entries) {
    try {
      Successful.push({ Id: e.Id, ...each(e) });
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      Failed.push({ Id: e.Id, SenderFault: err.status < 500, Code: err.code, Message: err.message });
    }
  }
  return { Successful, Failed };
}

function checkAttributes(attrs: Record<string, any>): Record<string, AttributeValue> {
  const names = Object.keys(attrs);
  if (names.length > 10) throw invalid(`Number of message attributes [${names.length}] exceeds the allowed maximum [10].`);
  const out: Record<string, AttributeValue> = {};
  for (const name of names) {
    const a = attrs[name] ?? {};
    if (
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      /^(aws\.|amazon\.)/i.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..')
    ) {
      throw invalid(`Message attribute name '${name}' is invalid.`);
    }
    const type = String(a.DataType ?? '');
    if (!/^(String|Number|Binary)(\..+)?$/.test(type))
      throw invalid(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    const binary = type.startsWith('Binary');
    const value = binary ? a.BinaryValue : a.StringValue;
    if (typeof value !== 'string' || value === '')
      throw invalid(`Message (user) attribute '${name}' must contain a non-empty value of type '${binary ? 'Binary' : 'String'}'.`);
    if (type.startsWith('Number') && !Number.isFinite(Number(value)))
      throw invalid(`Could not cast message attribute '${name}' value to number.`);
    out[name] = binary ? { DataType: type, BinaryValue: value } : { DataType: type, StringValue: value };
  }
  return out;
}

function attributesSize(attrs: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [k, a] of Object.entries(attrs)) {
    n += Buffer.byteLength(k) + Buffer.byteLength(a.DataType);
    n += a.BinaryValue !== undefined ? Buffer.from(a.BinaryValue, 'base64').length : Buffer.byteLength(a.StringValue ?? '');
  }
  return n;
}

function view(m: SqsMessage, system: string[], wanted: string[]): Record<string, unknown> {
  const sys: Record<string, string | undefined> = {
    SenderId: m.senderId,
    SentTimestamp: String(m.sentAt),
    ApproximateReceiveCount: String(m.receiveCount),
    ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
    AWSTraceHeader: m.traceHeader,
    DeadLetterQueueSourceArn: m.deadLetterSourceArn,
  };
  const all = system.includes('All');
  const Attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(sys)) if (v !== undefined && (all || system.includes(k))) Attributes[k] = v;
  const matches = (n: string) =>
    wanted.some((w) => w === 'All' || w === '.*' || w === n || (w.endsWith('.*') && n.startsWith(w.slice(0, -1))));
  const MessageAttributes = Object.fromEntries(Object.entries(m.attributes).filter(([n]) => matches(n)));
  const md5Attrs = md5OfAttributes(MessageAttributes);
  return {
    MessageId: m.id,
    ReceiptHandle: m.handle,
    MD5OfBody: m.md5,
    Body: m.body,
    ...(Object.keys(Attributes).length ? { Attributes } : {}),
    ...(md5Attrs ? { MD5OfMessageAttributes: md5Attrs, MessageAttributes } : {}),
  };
}
