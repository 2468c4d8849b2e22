import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failedIds, startSqsEventSource, type SqsEventSource } from '../../sandbox/event-source.js';
import { harness, type Harness } from '../helpers/sandbox.js';

// SQS durations run 10x faster: a 1 s visibility timeout lasts 100 ms.
let h: Harness;
let sqs: SQSClient;
let src: SqsEventSource | undefined;
beforeAll(async () => {
  h = await harness({ sqs: { timeScale: 10 } });
  sqs = new SQSClient(h.cfg);
});
afterAll(async () => {
  await src?.stop();
  await h.sb.close();
});
beforeEach(async () => {
  await src?.stop();
  src = undefined;
  h.sb.reset();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function queue(name: string, attrs: Record<string, string> = {}) {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '1', ...attrs } }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  return { url, arn };
}
async function send(url: string, bodies: string[]) {
  for (let i = 0; i < bodies.length; i += 10) {
    const Entries = bodies.slice(i, i + 10).map((b, j) => ({ Id: `e${j}`, MessageBody: b }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
  }
}
const start = (o: Omit<Parameters<typeof startSqsEventSource>[0], 'endpoint' | 'region'>) =>
  (src = startSqsEventSource({ endpoint: h.sb.url, region: 'eu-west-1', waitSeconds: 1, ...o }));

describe('startSqsEventSource', () => {
  it('delivers a real SQSEvent with a Lambda context and deletes what succeeded', async () => {
    const q = await queue('events');
    const events: SQSEvent[] = [];
    let remaining = 0;
    start({
      queueUrl: q.url,
      timeoutMs: 5000,
      handler: (e, ctx) => {
        events.push(e);
        remaining = ctx.getRemainingTimeInMillis();
      },
    });
    await send(q.url, ['{"instanceId":"i-1"}']);
    await src!.drained({ timeoutMs: 5000 });
    const r = events[0]!.Records[0]!;
    expect(r).toMatchObject({ body: '{"instanceId":"i-1"}', eventSource: 'aws:sqs', eventSourceARN: q.arn, awsRegion: 'eu-west-1' });
    expect(r.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(r.attributes.ApproximateReceiveCount).toBe('1');
    expect(Number(r.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(Number(r.attributes.SentTimestamp));
    expect(remaining).toBeGreaterThan(4000);
    expect(remaining).toBeLessThanOrEqual(5000);
    expect(src!.stats()).toMatchObject({ invocations: 1, messages: 1, deleted: 1, failures: 0 });
  });

  it('reports partial batch failures: only the failed items reappear, after their visibility timeout', async () => {
    const q = await queue('partial');
    const seen = new Map<string, number[]>();
    start({
      queueUrl: q.url,
      maximumConcurrency: 1,
      handler: (e) => {
        const failures = [];
        for (const r of e.Records) {
          const times = seen.get(r.body) ?? [];
          times.push(Date.now());
          seen.set(r.body, times);
          if (r.body.startsWith('fail') && r.attributes.ApproximateReceiveCount === '1') failures.push({ itemIdentifier: r.messageId });
        }
        return { batchItemFailures: failures };
      },
    });
    await send(q.url, ['ok-1', 'fail-1', 'ok-2', 'fail-2']);
    await src!.drained({ timeoutMs: 5000 });
    expect([...seen].map(([b, t]) => [b, t.length]).sort()).toEqual([
      ['fail-1', 2],
      ['fail-2', 2],
      ['ok-1', 1],
      ['ok-2', 1],
    ]);
    const gap = seen.get('fail-1')![1]! - seen.get('fail-1')![0]!;
    expect(gap).toBeGreaterThanOrEqual(90); // 1 s visibility, scaled
    expect(src!.stats()).toMatchObject({ failures: 2, deleted: 4 });
  });

  it('a throwing handler leaves the whole batch, which ends in the DLQ after maxReceiveCount', async () => {
    const dlq = await queue('dead');
    const q = await queue('doomed', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 }) });
    start({
      queueUrl: q.url,
      handler: () => {
        throw new Error('boom');
      },
    });
    await send(q.url, ['a', 'b']);
    await src!.drained({ timeoutMs: 10_000 });
    await src!.stop();
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
    );
    expect(dead.Messages!.map((m) => m.Body).sort()).toEqual(['a', 'b']);
    expect(dead.Messages![0]!.Attributes!.DeadLetterQueueSourceArn).toBe(q.arn);
    const s = src!.stats();
    expect(s.deleted).toBe(0);
    expect(s.messages).toBe(6); // each message three times
    expect(s.lastError).toBe('Error: boom');
  });

  it('never runs more than maximumConcurrency invocations at once', async () => {
    const q = await queue('capped');
    let running = 0;
    let peak = 0;
    start({
      queueUrl: q.url,
      batchSize: 2,
      maximumConcurrency: 3,
      handler: async () => {
        peak = Math.max(peak, ++running);
        await sleep(30);
        running--;
      },
    });
    await send(
      q.url,
      Array.from({ length: 40 }, (_, i) => `m${i}`),
    );
    await src!.drained({ timeoutMs: 10_000 });
    expect(peak).toBe(3);
    expect(src!.stats()).toMatchObject({ maxInFlight: 3, messages: 40, deleted: 40 });
  });

  it('fails a batch whose invocation outlives the timeout', async () => {
    const q = await queue('slow');
    let calls = 0;
    start({
      queueUrl: q.url,
      timeoutMs: 50,
      handler: async () => {
        if (++calls === 1) await sleep(200);
      },
    });
    await send(q.url, ['x']);
    await src!.drained({ timeoutMs: 5000 });
    expect(calls).toBe(2);
    expect(src!.stats().lastError).toContain('Task timed out');
  });

  it('keeps polling through SQS faults and counts them', async () => {
    const q = await queue('flaky');
    h.sb.setFaults({ errors: { ReceiveMessage: { rate: 1, kind: '5xx' } } });
    let got = 0;
    start({
      queueUrl: q.url,
      handler: (e) => {
        got += e.Records.length;
      },
    });
    await send(q.url, ['x']);
    await sleep(300);
    expect(got).toBe(0);
    expect(src!.stats().pollErrors).toBeGreaterThan(0);
    expect(src!.stats().lastError).toContain('ServiceUnavailable');
    h.sb.setFaults({});
    await src!.drained({ timeoutMs: 5000 });
    expect(got).toBe(1);
  });
});

describe('failedIds (Lambda partial batch rules)', () => {
  const batch = [{ messageId: 'a' }, { messageId: 'b' }] as never[];
  it('keeps only reported items, everything on a throw or a bad identifier, nothing when not reporting', () => {
    expect([...failedIds(batch, { threw: false, response: { batchItemFailures: [{ itemIdentifier: 'b' }] } }, true)]).toEqual(['b']);
    expect([...failedIds(batch, { threw: true }, true)]).toEqual(['a', 'b']);
    expect([...failedIds(batch, { threw: false, response: { batchItemFailures: [{ itemIdentifier: '' }] } }, true)]).toEqual(['a', 'b']);
    expect([...failedIds(batch, { threw: false, response: { batchItemFailures: [{ itemIdentifier: 'b' }] } }, false)]).toEqual([]);
    expect([...failedIds(batch, { threw: false, response: undefined }, true)]).toEqual([]);
  });
});
