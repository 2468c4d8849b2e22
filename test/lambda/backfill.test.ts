// The backfill Lambda's front: input validation (no AWS call on bad input) and the fan-out
// (one asynchronous child invocation per Region). AWS is mocked here; lambda-child.test.ts runs a
// child against the sandbox.
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TOPIC, lambdaContext, loadFunction } from '../helpers/lambda.js';

type Mod = typeof import('../../functions/backfill.js');
const lambda = mockClient(LambdaClient);
const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const sns = mockClient(SNSClient);
const env = { TOPIC_ARN: TOPIC, IDENTITY_GATE: 'off' };
const ctx = lambdaContext('imds-guard-prod-backfill');

beforeEach(() => {
  for (const m of [lambda, sts, ec2, sns]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333', Arn: 'arn:aws:sts::111122223333:assumed-role/ops/alice' });
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
});
afterEach(() => vi.unstubAllEnvs());

const payloads = () =>
  lambda.commandCalls(InvokeCommand).map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array)));
const noAwsCalls = () => {
  for (const m of [lambda, sts, ec2, sns]) expect(m.calls()).toHaveLength(0);
};

describe('backfill handler: input validation', () => {
  it.each([
    ['no mode', {}],
    ['unknown mode', { mode: 'fix-everything' }],
    ['bad Region', { mode: 'scan', regions: ['eu-west-1', 'Frankfurt'] }],
    ['empty Region list', { mode: 'scan', regions: [] }],
    ['bad scope', { mode: 'scan', scope: 'everything' }],
    ['bad cluster name', { mode: 'enforce', clusters: ['no spaces allowed'] }],
    ['unknown field', { mode: 'scan', region: 'eu-west-1' }],
    ['not an object', 'scan'],
    ['forged child', { mode: 'enforce', child: { runId: 'x', region: 'eu-west-1' } }],
  ])('%s -> structured error, no AWS call', async (_, event) => {
    const { handler } = await loadFunction<Mod>('../../functions/backfill.js', env);
    const res = await handler(event as never, ctx);
    expect(res).toMatchObject({ status: 'invalid', message: expect.stringContaining('mode'), issues: expect.any(Array) });
    expect((res as { issues: string[] }).issues.length).toBeGreaterThan(0);
    noAwsCalls();
  });
});

describe('backfill handler: fan-out', () => {
  it('one asynchronous child per Region, to itself, with the run identity', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/backfill.js', env);
    const res = await handler(
      { mode: 'enforce', regions: ['eu-west-1', 'us-east-1', 'ap-southeast-2'], scope: 'eks', clusters: ['payments'] },
      ctx,
    );
    expect(res).toMatchObject({ status: 'fanned-out', regions: ['eu-west-1', 'us-east-1', 'ap-southeast-2'], invocations: 3 });
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 3);
    for (const c of lambda.commandCalls(InvokeCommand)) {
      expect(c.args[0].input).toMatchObject({ FunctionName: ctx.invokedFunctionArn, InvocationType: 'Event' });
    }
    const p = payloads();
    expect(p.map((x) => x.child.region)).toEqual(['eu-west-1', 'us-east-1', 'ap-southeast-2']);
    expect(p.map((x) => x.regions)).toEqual([['eu-west-1'], ['us-east-1'], ['ap-southeast-2']]);
    const runIds = new Set(p.map((x) => x.child.runId));
    expect(runIds.size).toBe(1);
    for (const x of p) {
      expect(x).toMatchObject({
        mode: 'enforce',
        scope: 'eks',
        clusters: ['payments'],
        child: { link: 0, account: '111122223333', actor: 'arn:aws:sts::111122223333:assumed-role/ops/alice', counts: {} },
      });
      expect(x.child.afterInstanceId).toBeUndefined();
    }
    // The parent itself touches no resources and publishes nothing.
    expect(ec2.calls()).toHaveLength(0);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  it('without regions: every enabled Region from DescribeRegions', async () => {
    ec2.on(DescribeRegionsCommand).resolves({
      Regions: [
        { RegionName: 'us-west-2', OptInStatus: 'opt-in-not-required' },
        { RegionName: 'eu-central-1', OptInStatus: 'opt-in-not-required' },
      ],
    });
    const { handler } = await loadFunction<Mod>('../../functions/backfill.js', env);
    const res = await handler({ mode: 'scan' }, ctx);
    expect(res).toMatchObject({ status: 'fanned-out', regions: ['eu-central-1', 'us-west-2'] });
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 2);
    expect(ec2).toHaveReceivedCommandTimes(DescribeRegionsCommand, 1);
  });

  it('a child that cannot be started: the others run, and a failed summary names the Region to invoke again', async () => {
    lambda.on(InvokeCommand).callsFake((input) => {
      if (JSON.parse(new TextDecoder().decode(input.Payload)).child.region === 'us-east-1')
        throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      return { StatusCode: 202 };
    });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const { handler } = await loadFunction<Mod>('../../functions/backfill.js', env);
    // Not a throw: Lambda's retry would start eu-west-1 a second time.
    const res = await handler({ mode: 'scan', regions: ['eu-west-1', 'us-east-1'] }, ctx);
    expect(res).toMatchObject({
      status: 'fanned-out',
      regions: ['eu-west-1'],
      invocations: 1,
      notStarted: ['us-east-1'],
      error: { name: 'FanOutError' },
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const msg = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(msg.MessageAttributes?.resourceType?.StringValue).toBe('summary');
    const summary = JSON.parse(JSON.parse(msg.Message!).default);
    expect(summary.regions).toEqual([
      expect.objectContaining({
        region: 'us-east-1',
        error: { name: 'FanOutError', message: expect.stringContaining('"regions": ["us-east-1"]') },
      }),
    ]);
  });

  it('no child could be started: the invocation fails, so Lambda retries the whole run', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const { handler } = await loadFunction<Mod>('../../functions/backfill.js', env);
    await expect(handler({ mode: 'scan', regions: ['eu-west-1', 'us-east-1'] }, ctx)).rejects.toThrow(/eu-west-1, us-east-1.*started none/);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  it('a missing TOPIC_ARN fails at cold start', async () => {
    await expect(loadFunction<Mod>('../../functions/backfill.js', { IDENTITY_GATE: 'off' })).rejects.toThrow(/TOPIC_ARN/);
  });
});
