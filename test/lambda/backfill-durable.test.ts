// The backfill as a durable execution, run by the durable functions testing SDK (LocalDurableTestRunner: a local
// checkpoint server, replay across invocations) against the sandbox: units, links with continuation, the one
// summary, and an execution cut off half-way that resumes without redoing the finished units.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeBackfillHandler, SAFETY_MS, type BackfillDeps } from '../../lib/lambda/backfill.js';
import { backfillContext } from '../../lib/runs/context.js';
import { resetClients } from '../../lib/shell/clients.js';
import { auditStoreFor, readAuditRecords } from '../../lib/shell/audit-store.js';
import { loadConfig } from '../../lib/shell/config.js';
import { RateLimiter } from '../../lib/shell/rate-limit.js';
import type { Sandbox } from '../../sandbox/server.js';
import { launchInstances } from '../helpers/launch.js';
import { createAuditTable, startTestSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
let topic: string;
const REGIONS = ['eu-west-1', 'us-east-1'];
const creds = { accessKeyId: 'a', secretAccessKey: 'b' };

beforeAll(async () => {
  sb = await startTestSandbox();
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
});
afterAll(async () => {
  await LocalDurableTestRunner.teardownTestEnvironment();
  await sb.close();
});
beforeEach(async () => {
  sb.reset();
  vi.stubEnv('AWS_ENDPOINT_URL', sb.url);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  resetClients();
  const sns = new SNSClient({ region: 'eu-west-1', endpoint: sb.url, credentials: creds });
  topic = (await sns.send(new CreateTopicCommand({ Name: 'imds-guard-audit' }))).TopicArn!;
});

async function seed(region: string, n: number): Promise<string[]> {
  const ec2 = new EC2Client({ region, endpoint: sb.url, credentials: creds });
  const out = await launchInstances(ec2, n, 'optional', 2, { 'eks:cluster-name': 'payments', 'eks:nodegroup-name': 'ng' });
  return out.map((i) => i.InstanceId!);
}

function runner(deps: BackfillDeps = {}) {
  const config = loadConfig({ TOPIC_ARN: topic, IDENTITY_GATE: 'off', PUBLISH_OUTCOMES: 'remediated,failed' });
  const handler = withDurableExecution(makeBackfillHandler(config, { limiter: new RateLimiter({ enabled: false }), ...deps }));
  return new LocalDurableTestRunner({ handlerFunction: handler });
}

const summaries = () => sb.messages().filter((m) => m.attributes.kind === 'summary');

describe('durable backfill, one account', () => {
  it('runs every Region as a unit and publishes one summary for the run', async () => {
    const ids = [...(await seed('eu-west-1', 4)), ...(await seed('us-east-1', 3))];
    const ex = await runner().run({ payload: { mode: 'enforce', regions: REGIONS } });
    expect(ex.getStatus()).toBe('SUCCEEDED');
    expect(ex.getResult()).toMatchObject({ status: 'done', units: 2, succeeded: 2, failed: 0, counts: { remediated: 7 } });
    for (const r of REGIONS)
      for (const i of sb.state.region(r).instances.values())
        expect(i.metadata).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(ids).toHaveLength(7);
    expect(summaries()).toHaveLength(1);
    const body = JSON.parse(summaries()[0]!.bodies.default!);
    expect(body).toMatchObject({ mode: 'enforce', counts: { remediated: 7 } });
    expect(body.regions.map((r: { region: string }) => r.region).sort()).toEqual([...REGIONS].sort());
  });
});

describe('durable backfill: the audit store', () => {
  it("keeps every unit's records in AUDIT_TABLE, under the run id", async () => {
    await createAuditTable(sb.url, 'eu-west-1', 'audit');
    await seed('eu-west-1', 2);
    await seed('us-east-1', 1);
    const config = loadConfig({ TOPIC_ARN: topic, IDENTITY_GATE: 'off', AUDIT_TABLE: 'audit' });
    expect(auditStoreFor(config, 'eu-west-1')).toBeDefined();
    const handler = withDurableExecution(makeBackfillHandler(config, { limiter: new RateLimiter({ enabled: false }) }));
    const ex = await new LocalDurableTestRunner({ handlerFunction: handler }).run({ payload: { mode: 'enforce', regions: REGIONS } });
    expect(ex.getStatus()).toBe('SUCCEEDED');
    const { runId } = ex.getResult() as { runId: string };
    const kept = await readAuditRecords(new DynamoDBClient({ region: 'eu-west-1', endpoint: sb.url, credentials: creds }), 'audit', {
      eventId: runId,
    });
    expect(kept.filter((r) => r.resource.type === 'instance' && r.outcome === 'remediated')).toHaveLength(3);
    expect(new Set(kept.map((r) => r.resource.region))).toEqual(new Set(REGIONS));
  });
});

describe('durable backfill: links, cut-offs and failures', () => {
  /** Counts how often the worker opened each unit (a replayed, checkpointed link opens nothing). */
  function opening() {
    const opened: Record<string, number> = {};
    const context: BackfillDeps['context'] = (region, account) => {
      opened[region] = (opened[region] ?? 0) + 1;
      return backfillContext(loadConfig({ TOPIC_ARN: topic, IDENTITY_GATE: 'off' }), region, undefined, { account });
    };
    return { opened, context };
  }

  it('an invocation cut off half-way: the next one resumes, finished units and links are not run again', async () => {
    await seed('eu-west-1', 4);
    await seed('us-east-1', 300);
    await seed('ap-southeast-2', 3);
    const { opened, context } = opening();
    let invocation = 0;
    // The first invocation is out of time once it starts: each link does one chunk (250), then hands over.
    const config = loadConfig({ TOPIC_ARN: topic, IDENTITY_GATE: 'off', PUBLISH_OUTCOMES: 'failed' });
    const durable = withDurableExecution(
      makeBackfillHandler(config, {
        limiter: new RateLimiter({ enabled: false }),
        context,
        remainingMs: () => (invocation === 1 ? SAFETY_MS : 600_000),
      }),
    );
    const run = new LocalDurableTestRunner({
      handlerFunction: (async (e: never, c: never) => {
        invocation++;
        return durable(e, c);
      }) as typeof durable,
    });
    const ex = await run.run({ payload: { mode: 'enforce', regions: ['eu-west-1', 'us-east-1', 'ap-southeast-2'], concurrency: 1 } });
    expect(ex.getStatus()).toBe('SUCCEEDED');
    expect(invocation).toBeGreaterThanOrEqual(2);
    // eu-west-1 finished in the first invocation and was replayed from its checkpoint; us-east-1 took two links.
    expect(opened).toEqual({ 'eu-west-1': 1, 'us-east-1': 2, 'ap-southeast-2': 1 });
    expect(sb.stats().calls.ModifyInstanceMetadataOptions).toBe(307);
    expect(ex.getResult()).toMatchObject({ status: 'done', units: 3, failed: 0, counts: { remediated: 307 } });
    const body = JSON.parse(summaries()[0]!.bodies.default!);
    const east = body.regions.find((r: { region: string }) => r.region === 'us-east-1');
    expect(east).toMatchObject({ links: 2 });
    // Each instance once over both links: the early first page's instances past the cut are not seen again
    // (as `compliant`) by the second link; the one `reported` is the account defaults.
    expect(east.counts).toEqual({ reported: 1, remediated: 300 });
    expect(summaries()).toHaveLength(1);
  });

  it('a unit that keeps failing is retried, then fails alone within the tolerance; the summary names it', async () => {
    await seed('eu-west-1', 2);
    await seed('us-east-1', 2);
    const { context } = opening();
    let tries = 0;
    const failing: BackfillDeps['context'] = (region, account) => {
      if (region === 'us-east-1') {
        tries++;
        throw Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' });
      }
      return context!(region, account);
    };
    const ex = await runner({ context: failing, retry: { maxAttempts: 2, delaySeconds: 1 } }).run({
      payload: { mode: 'enforce', regions: REGIONS, toleratedFailures: 1 },
    });
    expect(ex.getStatus()).toBe('SUCCEEDED');
    expect(tries).toBe(2);
    expect(ex.getResult()).toMatchObject({ status: 'done', units: 2, succeeded: 1, failed: 1, counts: { remediated: 2 } });
    const body = JSON.parse(summaries()[0]!.bodies.default!);
    expect(body.regions.find((r: { region: string }) => r.region === 'us-east-1')).toMatchObject({
      error: { name: 'AccessDenied', message: expect.stringContaining('sts:AssumeRole') },
    });
  });

  it('more failures than tolerated: the run stops starting units and says which never ran', async () => {
    const failing: BackfillDeps['context'] = () => {
      throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
    };
    const ex = await runner({ context: failing, retry: { maxAttempts: 1, delaySeconds: 1 } }).run({
      payload: { mode: 'scan', regions: ['eu-west-1', 'us-east-1', 'ap-southeast-2'], concurrency: 1, toleratedFailures: 0 },
    });
    expect(ex.getResult()).toMatchObject({ status: 'failed', completionReason: 'FAILURE_TOLERANCE_EXCEEDED' });
    const body = JSON.parse(summaries()[0]!.bodies.default!);
    expect(body.regions.map((r: { error?: { name: string } }) => r.error?.name)).toEqual(['AccessDenied', 'NotStarted', 'NotStarted']);
  });
});
