// The backfill Lambda's front: input validation (no AWS call on bad input, and, for an account selection that
// names nothing real, no call past Organizations), run through the durable functions testing SDK. AWS is
// mocked here; backfill-durable.test.ts runs executions against the sandbox.
import { EC2Client } from '@aws-sdk/client-ec2';
import { ListAccountsForParentCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeBackfillHandler } from '../../lib/lambda/backfill.js';
import { loadConfig } from '../../lib/shell/config.js';
import { TOPIC, loadFunction } from '../helpers/lambda.js';

type Mod = typeof import('../../functions/backfill.js');
const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const sns = mockClient(SNSClient);
const org = mockClient(OrganizationsClient);
const env = { TOPIC_ARN: TOPIC, IDENTITY_GATE: 'off' };

beforeAll(() => LocalDurableTestRunner.setupTestEnvironment({ skipTime: false }));
afterAll(() => LocalDurableTestRunner.teardownTestEnvironment());
beforeEach(() => {
  for (const m of [sts, ec2, sns, org]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333', Arn: 'arn:aws:sts::111122223333:assumed-role/ops/alice' });
});
afterEach(() => vi.unstubAllEnvs());

async function execute(payload: unknown) {
  const runner = new LocalDurableTestRunner({ handlerFunction: withDurableExecution(makeBackfillHandler(loadConfig(env))) });
  return (await runner.run({ payload: payload as object })).getResult();
}

describe('backfill handler: input validation', () => {
  it.each([
    ['no mode', {}],
    ['unknown mode', { mode: 'fix-everything' }],
    ['bad Region', { mode: 'scan', regions: ['eu-west-1', 'Frankfurt'] }],
    ['empty Region list', { mode: 'scan', regions: [] }],
    ['bad scope', { mode: 'scan', scope: 'everything' }],
    ['bad cluster name', { mode: 'enforce', clusters: ['no spaces allowed'] }],
    ['unknown field', { mode: 'scan', region: 'eu-west-1' }],
    ['a child of the old self-invocation', { mode: 'enforce', child: { runId: 'x', region: 'eu-west-1' } }],
    ['bad account id', { mode: 'scan', accounts: ['1111'] }],
    ['bad OU id', { mode: 'scan', ou: 'engineering' }],
    ['two account selections', { mode: 'scan', org: true, accounts: ['111111111111'] }],
    ['concurrency 0', { mode: 'scan', concurrency: 0 }],
  ])('%s -> structured error, no AWS call', async (_, event) => {
    const res = await execute(event);
    expect(res).toMatchObject({ status: 'invalid', message: expect.stringContaining('mode'), issues: expect.any(Array) });
    expect((res as { issues: string[] }).issues.length).toBeGreaterThan(0);
    for (const m of [sts, ec2, sns, org]) expect(m.calls()).toHaveLength(0);
  });

  it('an OU the organization does not have -> an error naming it, and nothing runs', async () => {
    org.on(ListAccountsForParentCommand).rejects(Object.assign(new Error('not found'), { name: 'ParentNotFoundException' }));
    const res = await execute({ mode: 'scan', regions: ['eu-west-1'], ou: 'ou-ab12-cdef3456' });
    expect(res).toMatchObject({ status: 'invalid', issues: ['OU ou-ab12-cdef3456 was not found in the organization'] });
    expect(ec2.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it('a missing TOPIC_ARN fails at cold start', async () => {
    await expect(loadFunction<Mod>('../../functions/backfill.js', { IDENTITY_GATE: 'off' })).rejects.toThrow(/TOPIC_ARN/);
  });
});
