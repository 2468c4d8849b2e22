// Acting in member accounts against the multi-account sandbox: one AssumeRole per account and credential
// lifetime, refusals naming the account and role, clients and rate-limiter buckets per account and Region.
import { DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  accountOfFunctionArn,
  assumeRoleCount,
  credentialsFor,
  MemberAccessError,
  resetAccountCredentials,
  sessionName,
} from '../../lib/shell/accounts.js';
import { type ec2Client, resetClients } from '../../lib/shell/clients.js';
import { loadConfig } from '../../lib/shell/config.js';
import { RateLimiter } from '../../lib/shell/rate-limit.js';
import { regionContext } from '../../lib/shell/region-context.js';
import type { Sandbox } from '../../sandbox/server.js';
import { startTestSandbox } from '../helpers/sandbox.js';

const HUB = '111122223333';
const A = '444455556666';
const B = '777788889999';
const ROLE = { roleName: 'imds-guard-member' };
let sb: Sandbox;

beforeAll(async () => {
  sb = await startTestSandbox({ accounts: [{ id: A, roles: ['imds-guard-member'] }, { id: B }] });
});
afterAll(() => sb.close());
beforeEach(() => {
  sb.reset();
  for (const [k, v] of Object.entries(sb.env())) vi.stubEnv(k, v);
  resetClients();
  resetAccountCredentials();
});
afterEach(() => vi.unstubAllEnvs());

const okCalls = () => sb.assumeRoleCalls().filter((c) => c.outcome === 'ok');
const instanceIds = async (ec2: ReturnType<typeof ec2Client>) =>
  ((await ec2.send(new DescribeInstancesCommand({}))).Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);

describe('credentialsFor', () => {
  it('assumes the member role once per account, shared by concurrent and later callers', async () => {
    const p = credentialsFor(A, { ...ROLE, sessionName: sessionName('evt-1') });
    const [x, y] = await Promise.all([p(), p()]);
    expect(x.accessKeyId).toMatch(/^ASIA/);
    expect(y.accessKeyId).toBe(x.accessKeyId);
    expect((await credentialsFor(A, ROLE)()).accessKeyId).toBe(x.accessKeyId);
    expect(okCalls().map((c) => [c.account, c.roleArn, c.sessionName, c.callerAccount])).toEqual([
      [A, `arn:aws:iam::${A}:role/imds-guard-member`, 'imds-guard-evt-1', HUB],
    ]);
    expect(assumeRoleCount()).toBe(1);
  });

  it('assumes again shortly before the credentials expire', async () => {
    const p = credentialsFor(A, { ...ROLE, durationSeconds: 900 });
    const first = await p();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 11 * 60_000 });
    try {
      const second = await p();
      expect(second.accessKeyId).not.toBe(first.accessKeyId);
      expect(okCalls()).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('fails with a MemberAccessError naming the account and the role, and does not retry a refusal at once', async () => {
    const p = credentialsFor(B, ROLE);
    const e = await p().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MemberAccessError);
    expect((e as MemberAccessError).account).toBe(B);
    expect((e as MemberAccessError).reason).toBe('AccessDenied');
    expect((e as Error).message).toContain(`arn:aws:iam::${B}:role/imds-guard-member`);
    await expect(p()).rejects.toBeInstanceOf(MemberAccessError);
    expect(sb.assumeRoleCalls()).toHaveLength(1);
  });

  it('makes session names AWS accepts', () => {
    expect(sessionName('a b/c:d')).toBe('imds-guard-abcd');
    expect(sessionName('x'.repeat(100))).toHaveLength(64);
    expect(sessionName()).toBe('imds-guard');
    expect(accountOfFunctionArn(`arn:aws:lambda:eu-west-1:${HUB}:function:f`)).toBe(HUB);
  });
});

describe('regionContext in an account', () => {
  it('acts in the member account, and in the home account with its own credentials', async () => {
    const config = loadConfig({});
    const member = regionContext(config, 'eu-west-1', { account: A, home: HUB, eventId: 'e1' });
    const home = regionContext(config, 'eu-west-1', { account: HUB, home: HUB });
    expect(member.account).toBe(A);
    expect(home.account).toBeUndefined();
    expect(member.clients.ec2).not.toBe(home.clients.ec2);
    expect(regionContext(config, 'eu-west-1', { account: A, home: HUB }).clients.ec2).toBe(member.clients.ec2);
    const launched = (await member.clients.ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1 }))).Instances![0]!
      .InstanceId;
    expect(sb.account(A).region('eu-west-1').instances.has(launched!)).toBe(true);
    expect(await instanceIds(home.clients.ec2)).toEqual([]);
    expect(okCalls().map((c) => c.account)).toEqual([A]);
  });

  it('keys the rate limiter per account and Region', () => {
    const l = new RateLimiter();
    expect(l.plugin('eu-west-1', A)).not.toBe(l.plugin('eu-west-1', B));
    expect(l.plugin('eu-west-1', A)).toBe(l.plugin('eu-west-1', A));
    expect(l.plugin('eu-west-1')).not.toBe(l.plugin('eu-west-1', A));
  });
});

describe('config', () => {
  it('reads DEPLOYMENT, ORGANIZATION_ID and MEMBER_ROLE_NAME', () => {
    expect(loadConfig({})).toMatchObject({ DEPLOYMENT: 'account', MEMBER_ROLE_NAME: 'imds-guard-member' });
    expect(loadConfig({ DEPLOYMENT: 'hub', ORGANIZATION_ID: 'o-a1b2c3d4e5' }).ORGANIZATION_ID).toBe('o-a1b2c3d4e5');
    expect(() => loadConfig({ DEPLOYMENT: 'hub' })).toThrow(/ORGANIZATION_ID/);
    expect(() => loadConfig({ DEPLOYMENT: 'hub', ORGANIZATION_ID: 'o-short' })).toThrow(/ORGANIZATION_ID/);
    expect(() => loadConfig({ DEPLOYMENT: 'spoke' })).toThrow(/DEPLOYMENT/);
    expect(() => loadConfig({ MEMBER_ROLE_NAME: 'bad name' })).toThrow(/MEMBER_ROLE_NAME/);
  });
});
