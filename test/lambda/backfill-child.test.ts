// A backfill child against the sandbox: it enforces its Region, logs/publishes per owner, hands
// over to a continuation child when time runs short, and the last link publishes one summary.
import { EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetClients } from '../../lib/shell/clients.js';
import { RateLimiter } from '../../lib/shell/rate-limit.js';
import { loadConfig } from '../../lib/shell/config.js';
import { makeBackfillHandler, SAFETY_MS, type BackfillEvent } from '../../lib/lambda/backfill.js';
import type { Sandbox } from '../../sandbox/server.js';
import { launchInstances } from '../helpers/launch.js';
import { startTestSandbox } from '../helpers/sandbox.js';
import { lambdaContext } from '../helpers/lambda.js';

const lambda = mockClient(LambdaClient);
let sb: Sandbox;
let topic: string;
const REGION = 'eu-west-1';
const creds = { accessKeyId: 'a', secretAccessKey: 'b' };

beforeAll(async () => {
  sb = await startTestSandbox();
});
afterAll(() => sb.close());
beforeEach(async () => {
  sb.reset();
  lambda.reset();
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  vi.stubEnv('AWS_ENDPOINT_URL', sb.url);
  resetClients();
  topic = (
    await new SNSClient({ region: REGION, endpoint: sb.url, credentials: creds }).send(new CreateTopicCommand({ Name: 'imds-guard-audit' }))
  ).TopicArn!;
});

async function seed(n: number) {
  const ec2 = new EC2Client({ region: REGION, endpoint: sb.url, credentials: creds });
  const out = await launchInstances(ec2, n, 'optional', 2, { 'eks:cluster-name': 'payments', 'eks:nodegroup-name': 'ng' });
  return out.map((i) => i.InstanceId!);
}

const child = (over: Partial<NonNullable<BackfillEvent['child']>> = {}): BackfillEvent => ({
  mode: 'enforce',
  child: {
    runId: 'imds-guard-20260101T000000Z-abcdef',
    region: REGION,
    link: 0,
    account: '111122223333',
    actor: 'arn:aws:sts::111122223333:assumed-role/ops/alice',
    startedAt: '2026-01-01T00:00:00.000Z',
    counts: {},
    identityNotReady: [],
    ...over,
  },
});

/** A context whose remaining time leaves `ms` after the safety margin. */
const ctxWith = (ms: number): Context => ({ ...lambdaContext('imds-guard-prod-backfill'), getRemainingTimeInMillis: () => SAFETY_MS + ms });

const handlerFor = () =>
  makeBackfillHandler(loadConfig({ TOPIC_ARN: topic, IDENTITY_GATE: 'off', PUBLISH_OUTCOMES: 'remediated,failed' }), {
    limiter: new RateLimiter({ enabled: false }),
  });

describe('backfill child', () => {
  it('fits in one invocation: enforces, publishes per owner, then one summary', async () => {
    const ids = await seed(12);
    const res = await handlerFor()(child(), ctxWith(600_000));
    expect(res).toMatchObject({ status: 'done', region: REGION, link: 0, counts: { remediated: 12 } });
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 0);
    for (const id of ids)
      expect(sb.state.region(REGION).instances.get(id)!.metadata).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    const msgs = sb.messages();
    const summaries = msgs.filter((m) => m.attributes.kind === 'summary');
    expect(summaries).toHaveLength(1);
    const body = JSON.parse(summaries[0]!.bodies.default!);
    expect(body).toMatchObject({
      schema: 'imds-guard.backfill-summary/v1',
      runId: 'imds-guard-20260101T000000Z-abcdef',
      mode: 'enforce',
      counts: { remediated: 12 },
      regions: [{ region: REGION, links: 1 }],
    });
    expect(JSON.parse(summaries[0]!.bodies.https!)).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown' },
    });
    // Per-owner audit messages carry only PUBLISH_OUTCOMES.
    const audit = msgs.filter((m) => m.attributes.kind !== 'summary');
    expect(audit.length).toBeGreaterThan(0);
    for (const m of audit)
      expect(JSON.parse(m.bodies.default!).records.every((r: { outcome: string }) => r.outcome === 'remediated')).toBe(true);
  });

  it('short on time: hands over with the last instance ID, and the last link publishes the summary for the whole chain', async () => {
    const ids = (await seed(300)).sort();
    const first = await handlerFor()(child(), ctxWith(0));
    expect(first).toMatchObject({ status: 'continued', link: 0, remaining: 50, counts: { remediated: 250 } });
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    const call = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(call).toMatchObject({ InvocationType: 'Event', FunctionName: lambdaContext('imds-guard-prod-backfill').invokedFunctionArn });
    const next = JSON.parse(new TextDecoder().decode(call.Payload as Uint8Array)) as BackfillEvent;
    expect(next.child).toMatchObject({ link: 1, afterInstanceId: ids[249], counts: { remediated: 250 } });
    expect(sb.messages().filter((m) => m.attributes.kind === 'summary')).toHaveLength(0);

    const second = await handlerFor()(next, ctxWith(600_000));
    expect(second).toMatchObject({ status: 'done', link: 1, counts: { remediated: 300 } });
    expect(sb.stats().calls.ModifyInstanceMetadataOptions).toBe(300);
    const summaries = sb.messages().filter((m) => m.attributes.kind === 'summary');
    expect(summaries).toHaveLength(1);
    expect(JSON.parse(summaries[0]!.bodies.default!)).toMatchObject({
      counts: { remediated: 300 },
      regions: [{ region: REGION, links: 2 }],
    });
  });

  it('scan mode changes nothing and still summarises', async () => {
    await seed(5);
    const res = await handlerFor()({ ...child(), mode: 'scan' }, ctxWith(600_000));
    expect(res).toMatchObject({ status: 'done', counts: { 'would-remediate': 5 } });
    expect(sb.stats().calls.ModifyInstanceMetadataOptions).toBeUndefined();
    const [summary] = sb.messages().filter((m) => m.attributes.kind === 'summary');
    expect(JSON.parse(summary!.bodies.default!)).toMatchObject({ eventName: 'Scan', mode: 'dry-run' });
  });
});
