import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  TagQueueCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

// SQS durations run 10x faster: a 1 s visibility timeout lasts 100 ms.
let h: Harness;
let sqs: SQSClient;
beforeAll(async () => {
  h = await harness({ sqs: { timeScale: 10 } });
  sqs = new SQSClient(h.cfg);
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const create = async (c: SQSClient, name: string, Attributes?: Record<string, string>) =>
  (await c.send(new CreateQueueCommand({ QueueName: name, Attributes }))).QueueUrl!;
const attrs = async (c: SQSClient, QueueUrl: string) =>
  (await c.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes!;
const receive = (c: SQSClient, QueueUrl: string, extra: Record<string, unknown> = {}) =>
  c
    .send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], ...extra }))
    .then((r) => r.Messages ?? []);

// SQS's MD5OfMessageAttributes of { kind: String 'instance' }; moto computes the same.
const ATTRIBUTES_MD5 = '68df24acbefa70abbeed0f867f5727f4';

/** Behaviours checked against the sandbox and, when installed, moto_server. `slow` = seconds are real. */
function behaviours(client: () => SQSClient, scale: number) {
  it('sends, receives with system attributes and MD5s, hides the message, deletes it', async () => {
    const c = client();
    const url = await create(c, 'basic');
    const sent = await c.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'hello',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'instance' } },
      }),
    );
    const [m] = await receive(c, url, { VisibilityTimeout: 1, MessageAttributeNames: ['All'] });
    expect(m!.MessageId).toBe(sent.MessageId);
    expect(m!.MD5OfBody).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(sent.MD5OfMessageAttributes).toBe(ATTRIBUTES_MD5);
    expect(m!.MD5OfMessageAttributes).toBe(ATTRIBUTES_MD5);
    expect(m!.MessageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'instance' } });
    expect(m!.Attributes!.ApproximateReceiveCount).toBe('1');
    expect(Number(m!.Attributes!.SentTimestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(await receive(c, url)).toEqual([]);
    expect((await attrs(c, url)).ApproximateNumberOfMessagesNotVisible).toBe('1');
    await sleep(1100 / scale + 50);
    const [again] = await receive(c, url);
    expect(again!.Attributes!.ApproximateReceiveCount).toBe('2');
    expect(again!.ReceiptHandle).not.toBe(m!.ReceiptHandle);
    await c.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: again!.ReceiptHandle! }));
    const a = await attrs(c, url);
    expect([a.ApproximateNumberOfMessages, a.ApproximateNumberOfMessagesNotVisible]).toEqual(['0', '0']);
  });

  it('redrives to the DLQ once the receive count reaches maxReceiveCount', async () => {
    const c = client();
    const dlq = await create(c, 'work-dlq');
    const dlqArn = (await attrs(c, dlq)).QueueArn!;
    const url = await create(c, 'work', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) });
    expect(JSON.parse((await attrs(c, url)).RedrivePolicy!)).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 });
    await c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    for (const n of ['1', '2']) {
      const [m] = await receive(c, url, { VisibilityTimeout: 0 });
      expect(m!.Attributes!.ApproximateReceiveCount).toBe(n);
    }
    expect(await receive(c, url)).toEqual([]); // the third receive moves it instead
    const [dead] = await receive(c, dlq);
    expect(dead!.Body).toBe('poison');
  });

  it('ChangeMessageVisibility 0 makes a message visible again', async () => {
    const c = client();
    const url = await create(c, 'cmv');
    await c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const [m] = await receive(c, url, { VisibilityTimeout: 600 });
    await c.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle!, VisibilityTimeout: 0 }));
    expect((await receive(c, url)).map((x) => x.Body)).toEqual(['x']);
  });

  it('names a missing queue QueueDoesNotExist with the legacy query code', async () => {
    const err = (await errorOf(client().send(new GetQueueUrlCommand({ QueueName: 'absent' })))) as Error & { Code?: string };
    expect(err.name).toBe('QueueDoesNotExist');
    expect(err.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
  });
}

describe('SQS on the sandbox', () => {
  behaviours(() => sqs, 10);

  it('delays messages per message and per queue, counting them as delayed', async () => {
    const url = await create(sqs, 'delayed', { DelaySeconds: '2' });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'queue-delay' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'no-delay', DelaySeconds: 0 }));
    expect((await attrs(sqs, url)).ApproximateNumberOfMessagesDelayed).toBe('1');
    expect((await receive(sqs, url)).map((m) => m.Body)).toEqual(['no-delay']);
    await sleep(250);
    expect((await receive(sqs, url)).map((m) => m.Body)).toEqual(['queue-delay']);
  });

  it('long polling returns as soon as a message arrives, and an empty poll waits the full time', async () => {
    const url = await create(sqs, 'long');
    let t0 = Date.now();
    expect(await receive(sqs, url, { WaitTimeSeconds: 3 })).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    t0 = Date.now();
    const poll = receive(sqs, url, { WaitTimeSeconds: 20 }); // 2 s scaled
    await sleep(50);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' }));
    expect((await poll).map((m) => m.Body)).toEqual(['late']);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('long polls do not block other requests', async () => {
    const url = await create(sqs, 'busy');
    const polls = Array.from({ length: 5 }, () => receive(sqs, url, { WaitTimeSeconds: 5 }));
    const t0 = Date.now();
    await sqs.send(new ListQueuesCommand({}));
    expect(Date.now() - t0).toBeLessThan(200);
    await Promise.all(polls);
  });

  it('batches: sends, deletes, and reports per-entry failures', async () => {
    const url = await create(sqs, 'batch');
    const sent = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: [1, 2, 3].map((i) => ({ Id: `m${i}`, MessageBody: `body-${i}` })) }),
    );
    expect(sent.Successful!.map((s) => s.Id)).toEqual(['m1', 'm2', 'm3']);
    const got = await receive(sqs, url);
    expect(got.map((m) => m.Body).sort()).toEqual(['body-1', 'body-2', 'body-3']);
    const del = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [...got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })), { Id: 'bad', ReceiptHandle: 'nope' }],
      }),
    );
    expect(del.Successful!.length).toBe(3);
    expect(del.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true })]);
    expect((await errorOf(sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: [] })))).name).toBe('EmptyBatchRequest');
    const dup = sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'x' },
          { Id: 'a', MessageBody: 'y' },
        ],
      }),
    );
    expect((await errorOf(dup)).name).toBe('BatchEntryIdsNotDistinct');
  });

  it('rejects bad input in the real error shapes', async () => {
    const url = await create(sqs, 'strict');
    expect((await errorOf(sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })))).name).toBe(
      'InvalidParameterValue',
    );
    const cmv = sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: 'junk', VisibilityTimeout: 1 }));
    expect((await errorOf(cmv)).name).toBe('ReceiptHandleIsInvalid');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'v' }));
    const [m] = await receive(sqs, url, { VisibilityTimeout: 0 });
    const notInFlight = sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle!, VisibilityTimeout: 5 }),
    );
    expect((await errorOf(notInFlight)).name).toBe('MessageNotInflight');
    const redrive = JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:eu-west-1:111122223333:nope', maxReceiveCount: 3 });
    const bad = sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: redrive } }));
    expect((await errorOf(bad)).message).toContain('Dead-letter target does not exist');
    expect((await errorOf(sqs.send(new CreateQueueCommand({ QueueName: 'strict', Attributes: { VisibilityTimeout: '5' } })))).name).toBe(
      'QueueNameExists',
    );
    expect((await errorOf(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'bad\u0000char' })))).name).toBe(
      'InvalidMessageContents',
    );
  });

  it('lists, tags, and purges once a minute', async () => {
    const a = await create(sqs, 'imds-a');
    await create(sqs, 'other');
    expect((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'imds' }))).QueueUrls).toEqual([a]);
    expect(a).toBe(`${h.sb.url}/111122223333/imds-a`);
    await sqs.send(new TagQueueCommand({ QueueUrl: a, Tags: { team: 'sec' } }));
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: a }))).Tags).toEqual({ team: 'sec' });
    await sqs.send(new SendMessageCommand({ QueueUrl: a, MessageBody: 'p' }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: a }));
    expect((await attrs(sqs, a)).ApproximateNumberOfMessages).toBe('0');
    expect((await errorOf(sqs.send(new PurgeQueueCommand({ QueueUrl: a })))).name).toBe('PurgeQueueInProgress');
  });

  it('keeps queues per Region', async () => {
    await create(sqs, 'regional');
    const us = new SQSClient({ ...h.cfg, region: 'us-east-1' });
    expect((await errorOf(us.send(new GetQueueUrlCommand({ QueueName: 'regional' })))).name).toBe('QueueDoesNotExist');
  });

  it('fails loudly when faults make SQS unavailable or throttled', async () => {
    const url = await create(sqs, 'faulty');
    h.sb.setFaults({ errors: { 'sqs:*': { rate: 1, kind: '5xx' } } });
    const down = await errorOf(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })));
    expect([down.name, down.$metadata?.httpStatusCode]).toEqual(['ServiceUnavailable', 503]);
    h.sb.setFaults({ errors: { ReceiveMessage: { rate: 1, kind: 'throttle' } } });
    const slow = await errorOf(sqs.send(new ReceiveMessageCommand({ QueueUrl: url })));
    expect([slow.name, slow.$metadata?.httpStatusCode]).toEqual(['RequestThrottled', 403]);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'ok' })); // other operations unaffected
    expect(h.sb.stats().faults).toEqual({ SendMessage: 1, ReceiveMessage: 1 });
  });
});

function motoVersion(): string | undefined {
  try {
    return execFileSync('python3', ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const moto = motoVersion();
if (!moto) console.log('moto_server not installed: skipping the SQS cross-check against moto');
describe.skipIf(!moto)(`SQS behaviours also hold on moto_server ${moto ?? ''}`, () => {
  let proc: ChildProcess;
  let client: SQSClient;
  beforeAll(async () => {
    const port = await freePort();
    proc = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${url}/moto-api/`).then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
    client = new SQSClient({ ...h.cfg, endpoint: url, region: 'us-east-1' });
  }, 20_000);
  afterAll(() => {
    proc?.kill();
  });
  behaviours(() => client, 1);
});
