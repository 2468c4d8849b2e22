// The org-wide backfill end to end on the multi-account sandbox: one durable execution (the durable functions
// testing SDK) over the accounts of an OU x 2 Regions, acting in each member account through its member role.
// It fixes every node, resumes correctly when an invocation is cut off half-way, and a unit whose account has no
// member role fails alone, within the tolerance, named in the one summary.
import { EC2Client } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeBackfillHandler, SAFETY_MS, type BackfillDeps } from '../../lib/lambda/backfill.js';
import { backfillContext } from '../../lib/runs/context.js';
import { resetAccountCredentials } from '../../lib/shell/accounts.js';
import { resetClients } from '../../lib/shell/clients.js';
import { loadConfig } from '../../lib/shell/config.js';
import { RateLimiter } from '../../lib/shell/rate-limit.js';
import type { Sandbox } from '../../sandbox/server.js';
import { launchInstances } from '../helpers/launch.js';
import { startTestSandbox } from '../helpers/sandbox.js';

const HUB = '111122223333';
const [A, B, C] = ['222200000001', '222200000002', '222200000003'];
const NO_ROLE = '222200000009';
const OU = 'ou-sbx1-platform1';
const REGIONS = ['eu-west-1', 'us-east-1'];
let sb: Sandbox;
let topic: string;

beforeAll(async () => {
  sb = await startTestSandbox({
    accounts: [
      ...[A, B, C].map((id) => ({ id, roles: ['imds-guard-member'], parentId: OU })),
      { id: NO_ROLE, parentId: 'ou-sbx1-sandbox01' },
    ],
  });
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
  resetAccountCredentials();
  const sns = new SNSClient({ region: 'eu-west-1', endpoint: sb.url });
  topic = (await sns.send(new CreateTopicCommand({ Name: 'imds-guard-audit' }))).TopicArn!;
});

/** Launch `n` non-compliant EKS nodes in a member account, through its role (public APIs only). */
async function seed(account: string, region: string, n: number): Promise<void> {
  const sts = new STSClient({ region, endpoint: sb.url });
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/imds-guard-member`, RoleSessionName: 'seed' })))
    .Credentials!;
  const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
  await launchInstances(new EC2Client({ region, endpoint: sb.url, credentials }), n, 'optional', 2, {
    'eks:cluster-name': 'payments',
    'eks:nodegroup-name': 'ng',
  });
}

const nodes = (account: string) => REGIONS.flatMap((r) => [...sb.account(account).region(r).instances.values()]);
const compliant = (account: string) =>
  nodes(account).every((i) => i.metadata.HttpTokens === 'required' && i.metadata.HttpPutResponseHopLimit === 1);
const summaries = () => sb.messages().filter((m) => m.attributes.kind === 'summary');

function runnerWith(deps: BackfillDeps, onInvoke: () => void = () => {}) {
  const config = loadConfig({ TOPIC_ARN: topic, IDENTITY_GATE: 'off', PUBLISH_OUTCOMES: 'failed' });
  const durable = withDurableExecution(makeBackfillHandler(config, { limiter: new RateLimiter({ enabled: false }), ...deps }));
  return new LocalDurableTestRunner({
    handlerFunction: (async (e: never, c: never) => {
      onInvoke();
      return durable(e, c);
    }) as typeof durable,
  });
}

describe('org-wide backfill', () => {
  it('fixes every node in 3 accounts x 2 Regions, and resumes correctly when cut off half-way', async () => {
    for (const a of [A, B, C]) for (const r of REGIONS) await seed(a, r, a === B && r === 'eu-west-1' ? 300 : 5);
    const assumedBefore = sb.assumeRoleCalls().length;
    const opened: Record<string, number> = {};
    const config = loadConfig({ TOPIC_ARN: topic, IDENTITY_GATE: 'off' });
    const context: BackfillDeps['context'] = (region, account) => {
      opened[`${account}/${region}`] = (opened[`${account}/${region}`] ?? 0) + 1;
      return backfillContext(config, region, undefined, { account, home: HUB });
    };
    let invocation = 0;
    // The first invocation runs out of time: B's eu-west-1 (the third unit) stops after one chunk of 250.
    const run = runnerWith({ context, remainingMs: () => (invocation === 1 ? SAFETY_MS : 600_000) }, () => invocation++);
    const ex = await run.run({ payload: { mode: 'enforce', ou: OU, regions: REGIONS, concurrency: 1 } });

    expect(ex.getStatus()).toBe('SUCCEEDED');
    expect(ex.getResult()).toMatchObject({ status: 'done', units: 6, succeeded: 6, failed: 0, counts: { remediated: 325 } });
    for (const a of [A, B, C]) expect(compliant(a), a).toBe(true);
    expect(invocation).toBeGreaterThanOrEqual(2);
    // The units finished before the cut were replayed from their checkpoints, not run again.
    expect(opened).toEqual({
      [`${A}/eu-west-1`]: 1,
      [`${A}/us-east-1`]: 1,
      [`${B}/eu-west-1`]: 2,
      [`${B}/us-east-1`]: 1,
      [`${C}/eu-west-1`]: 1,
      [`${C}/us-east-1`]: 1,
    });
    expect(sb.stats().calls.ModifyInstanceMetadataOptions).toBe(325);
    // One AssumeRole per member account for the whole run, however many units and invocations.
    const assumed = sb.assumeRoleCalls().slice(assumedBefore);
    expect(assumed.map((c) => c.account).sort()).toEqual([A, B, C]);
    expect(summaries()).toHaveLength(1);
    const body = JSON.parse(summaries()[0]!.bodies.default!);
    expect(body.regions).toHaveLength(6);
    expect(body.regions.find((r: { account?: string; region: string }) => r.account === B && r.region === 'eu-west-1')).toMatchObject({
      links: 2,
      counts: { remediated: 300 },
    });
  }, 60_000);

  it('an account without the member role fails alone, within the tolerance, and the summary names it', async () => {
    for (const r of REGIONS) await seed(A, r, 3);
    const ex = await runnerWith({ retry: { maxAttempts: 2, delaySeconds: 1 } }).run({
      payload: { mode: 'enforce', accounts: [A, NO_ROLE], regions: REGIONS, toleratedFailures: 2 },
    });
    expect(ex.getResult()).toMatchObject({ status: 'done', units: 4, succeeded: 2, failed: 2, counts: { remediated: 6 } });
    expect(compliant(A)).toBe(true);
    const body = JSON.parse(summaries()[0]!.bodies.default!);
    const failed = body.regions.filter((r: { error?: unknown }) => r.error);
    expect(failed.map((r: { account: string }) => r.account)).toEqual([NO_ROLE, NO_ROLE]);
    for (const f of failed) expect(f.error).toMatchObject({ name: 'MemberAccessError', message: expect.stringContaining(NO_ROLE) });
    expect(summaries()[0]!.bodies.email).toContain(`${NO_ROLE}/eu-west-1: ERROR MemberAccessError`);
  }, 60_000);

  it('an OU the organization does not have: an error naming it, nothing runs', async () => {
    const ex = await runnerWith({}).run({ payload: { mode: 'scan', ou: 'ou-sbx1-missing01', regions: REGIONS } });
    expect(ex.getResult()).toMatchObject({ status: 'invalid', issues: ['OU ou-sbx1-missing01 was not found in the organization'] });
    expect(sb.assumeRoleCalls()).toHaveLength(0);
    expect(summaries()).toHaveLength(0);
  });
});
