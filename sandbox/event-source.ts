// Local stand-ins for Lambda's event sources, for tests, the demo and benchmarks: an SQS event source mapping
// (pollers, batches, partial batch responses, a concurrency cap) and an EventBridge Scheduler firing a schedule.
// They talk to the sandbox (or any SQS/Scheduler endpoint) through the real SDK clients.
import { randomUUID } from 'node:crypto';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

const FAKE_CREDENTIALS = { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox-secret' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the driver finds the service: a client, or an endpoint (plus Region) to build one for. */
interface EndpointOptions {
  endpoint?: string;
  /** Default: AWS_REGION, else eu-west-1. */
  region?: string;
}

/**
 * A consumer of SQS batches. As in Lambda, whatever it returns (or resolves to) is read for an
 * SQSBatchResponse's `batchItemFailures`; anything else, nothing included, means the whole batch succeeded.
 */
type SqsHandler = (event: SQSEvent, context: Context) => unknown;

export interface SqsEventSourceOptions extends EndpointOptions {
  client?: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  /** Messages per invocation, 1 to 10. Default 10. */
  batchSize?: number;
  /** `ScalingConfig.MaximumConcurrency`: concurrent invocations at most (one poller each). Default 2. */
  maximumConcurrency?: number;
  /** `FunctionResponseTypes: [ReportBatchItemFailures]`: honour `batchItemFailures`. Default true. */
  reportBatchItemFailures?: boolean;
  /** ReceiveMessage `WaitTimeSeconds` (long poll; the sandbox's `sqs.timeScale` shortens it). Default 1. */
  waitSeconds?: number;
  /** ReceiveMessage `VisibilityTimeout` in seconds. Default: the queue's. */
  visibilityTimeout?: number;
  /** The function timeout: `getRemainingTimeInMillis` counts down from it and a longer invocation fails its batch. Default 30,000. */
  timeoutMs?: number;
  /** Default `consumer`. */
  functionName?: string;
}

interface SqsEventSourceStats {
  /** Handler invocations started. */
  invocations: number;
  /** Messages handed to the handler (a redelivery counts again). */
  messages: number;
  /** Messages left on the queue after an invocation: reported item failures, or a whole failed batch. */
  failures: number;
  /** Messages deleted after success. */
  deleted: number;
  /** Invocations that threw or timed out (their whole batch stays on the queue). */
  errors: number;
  /** Failed ReceiveMessage / DeleteMessageBatch calls (the poller backs off and keeps going). */
  pollErrors: number;
  inFlight: number;
  /** Highest number of concurrent invocations seen. */
  maxInFlight: number;
  lastError?: string;
}

export interface SqsEventSource {
  /** Stops polling and waits for running invocations. */
  stop(): Promise<void>;
  /** Resolves when the queue has no visible, in-flight or delayed message and no invocation is running. */
  drained(opts?: { timeoutMs?: number; pollMs?: number }): Promise<void>;
  stats(): SqsEventSourceStats;
}

function sqsClient(o: SqsEventSourceOptions): SQSClient {
  return o.client ?? new SQSClient({ endpoint: o.endpoint, region: regionOf(o), credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
}

const regionOf = (o: EndpointOptions) => o.region ?? process.env.AWS_REGION ?? 'eu-west-1';

/** A Lambda `Context` whose remaining time counts down from `timeoutMs`. */
export function fakeContext(functionName: string, region: string, accountId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const noop = () => undefined;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: noop,
    fail: noop,
    succeed: noop,
  };
}

function lambdaAttributes(attrs: Record<string, MessageAttributeValue> = {}): SQSMessageAttributes {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return Object.fromEntries(
    Object.entries(attrs).map(([k, a]) => [
      k,
      {
        ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
        ...(a.BinaryValue !== undefined ? { binaryValue: b64(a.BinaryValue) } : {}),
        stringListValues: a.StringListValues ?? [],
        binaryListValues: (a.BinaryListValues ?? []).map(b64),
        dataType: a.DataType!,
      },
    ]),
  );
}

/** The `SQSRecord` Lambda builds from a received message. */
function toRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? '',
      SenderId: a.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? '',
      ...(a.AWSTraceHeader ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
      ...(a.DeadLetterQueueSourceArn ? { DeadLetterQueueSourceArn: a.DeadLetterQueueSourceArn } : {}),
    },
    messageAttributes: lambdaAttributes(m.MessageAttributes),
    md5OfBody: m.MD5OfBody ?? '',
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** Which messages of a batch stay on the queue, by Lambda's rules for an invocation's outcome. */
export function failedIds(batch: SQSRecord[], outcome: { threw: boolean; response?: unknown }, report: boolean): Set<string> {
  const all = new Set(batch.map((r) => r.messageId));
  if (outcome.threw) return all;
  if (!report) return new Set();
  const failures = (outcome.response as SQSBatchResponse | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  const ids = failures.map((f) => f?.itemIdentifier);
  // An empty or unknown itemIdentifier fails the whole batch, as in Lambda.
  if (ids.some((id) => typeof id !== 'string' || !all.has(id))) return all;
  return new Set(ids as string[]);
}

async function invoke(
  h: SqsHandler,
  event: SQSEvent,
  ctx: Context,
  timeoutMs: number,
): Promise<{ threw: boolean; response?: unknown; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)), timeoutMs);
  });
  try {
    return { threw: false, response: await Promise.race([Promise.resolve().then(() => h(event, ctx)), timeout]) };
  } catch (e) {
    return { threw: true, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `queueUrl` like Lambda's SQS event source mapping: `maximumConcurrency` pollers each receive up to
 * `batchSize` messages, invoke `handler` with a real `SQSEvent` and delete what succeeded; failures reappear
 * after their visibility timeout (and move to the DLQ by the queue's redrive policy).
 *
 * @example
 * const src = startSqsEventSource({ endpoint: sb.url, queueUrl, handler, batchSize: 10, maximumConcurrency: 5 });
 * await src.drained({ timeoutMs: 30_000 });
 * await src.stop();
 * console.log(src.stats().invocations);
 */
export function startSqsEventSource(o: SqsEventSourceOptions): SqsEventSource {
  const batchSize = o.batchSize ?? 10;
  const concurrency = o.maximumConcurrency ?? 2;
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 10)) throw new Error('batchSize must be 1 to 10');
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new Error('maximumConcurrency must be a positive integer');
  const client = sqsClient(o);
  const region = regionOf(o);
  const stats: SqsEventSourceStats = {
    invocations: 0,
    messages: 0,
    failures: 0,
    deleted: 0,
    errors: 0,
    pollErrors: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
  let running = true;
  let queueArn: Promise<string> | undefined;
  const arn = () =>
    (queueArn ??= client
      .send(new GetQueueAttributesCommand({ QueueUrl: o.queueUrl, AttributeNames: ['QueueArn'] }))
      .then((r) => r.Attributes!.QueueArn!)
      .catch((e: unknown) => {
        queueArn = undefined;
        throw e;
      }));
  const pollError = async (e: unknown, backoff: number) => {
    stats.pollErrors++;
    stats.lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    await sleep(backoff);
  };

  async function runBatch(messages: Message[], queue: string): Promise<void> {
    const records = messages.map((m) => toRecord(m, queue, region));
    stats.invocations++;
    stats.messages += records.length;
    stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
    const timeoutMs = o.timeoutMs ?? 30_000;
    const ctx = fakeContext(o.functionName ?? 'consumer', region, queue.split(':')[4] ?? '000000000000', timeoutMs);
    const outcome = await invoke(o.handler, { Records: records }, ctx, timeoutMs);
    stats.inFlight--;
    if (outcome.threw) {
      stats.errors++;
      stats.lastError = outcome.error;
    }
    const failed = failedIds(records, outcome, o.reportBatchItemFailures ?? true);
    stats.failures += failed.size;
    const done = records.filter((r) => !failed.has(r.messageId));
    if (!done.length) return;
    const Entries = done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle }));
    const out = await client.send(new DeleteMessageBatchCommand({ QueueUrl: o.queueUrl, Entries }));
    stats.deleted += out.Successful?.length ?? 0;
    if (out.Failed?.length) await pollError(new Error(`DeleteMessageBatch failed for ${out.Failed.length} entries`), 0);
  }

  async function poller(): Promise<void> {
    let backoff = 50;
    while (running) {
      try {
        const queue = await arn();
        const r = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: o.queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: o.waitSeconds ?? 1,
            VisibilityTimeout: o.visibilityTimeout,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        backoff = 50;
        if (r.Messages?.length) await runBatch(r.Messages, queue);
      } catch (e) {
        if (!running) break;
        await pollError(e, backoff);
        backoff = Math.min(1000, backoff * 2);
      }
    }
  }

  const pollers = Array.from({ length: concurrency }, () => poller());
  return {
    async stop() {
      running = false;
      await Promise.all(pollers);
    },
    async drained({ timeoutMs = 60_000, pollMs = 20 } = {}) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        if (stats.inFlight === 0) {
          const names = [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ] as const;
          const a =
            (await client.send(new GetQueueAttributesCommand({ QueueUrl: o.queueUrl, AttributeNames: [...names] }))).Attributes ?? {};
          if (names.every((n) => a[n] === '0') && stats.inFlight === 0) return;
        }
        if (Date.now() > until) throw new Error(`queue ${o.queueUrl} not drained after ${timeoutMs} ms`);
        await sleep(pollMs);
      }
    },
    stats: () => ({ ...stats }),
  };
}

export interface FireScheduleOptions extends EndpointOptions {
  client?: SchedulerClient;
  name: string;
  /** Default `default`. */
  groupName?: string;
  /** The schedule's target function. */
  handler: (event: unknown, context: Context) => unknown;
  timeoutMs?: number;
  functionName?: string;
}

/**
 * Fires a schedule once as Scheduler would: reads it (GetSchedule), refuses a DISABLED one, and invokes
 * `handler` with the target's `Input` (JSON-parsed; `{}` when absent; `<aws.scheduler.*>` placeholders filled in).
 *
 * @example
 * const summary = await fireSchedule({ endpoint: sb.url, name: 'imds-guard-sweep', handler: backfillHandler });
 */
export async function fireSchedule(o: FireScheduleOptions): Promise<unknown> {
  const client =
    o.client ?? new SchedulerClient({ endpoint: o.endpoint, region: regionOf(o), credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
  const s = await client.send(new GetScheduleCommand({ Name: o.name, GroupName: o.groupName }));
  if (s.State === 'DISABLED') throw new Error(`schedule ${o.name} is DISABLED`);
  const raw = (s.Target?.Input ?? '{}')
    .replaceAll('<aws.scheduler.schedule-arn>', s.Arn ?? '')
    .replaceAll('<aws.scheduler.scheduled-time>', new Date().toISOString().replace(/\.\d+Z$/, 'Z'))
    .replaceAll('<aws.scheduler.execution-id>', randomUUID())
    .replaceAll('<aws.scheduler.attempt-number>', '1');
  let event: unknown = raw;
  try {
    event = JSON.parse(raw);
  } catch {
    // A non-JSON Input reaches the function as a string.
  }
  const arn = s.Target?.Arn ?? '';
  const fn = o.functionName ?? arn.split(':')[6] ?? 'sweep';
  const ctx = fakeContext(fn, regionOf(o), arn.split(':')[4] ?? '000000000000', o.timeoutMs ?? 900_000);
  return o.handler(event, ctx);
}
