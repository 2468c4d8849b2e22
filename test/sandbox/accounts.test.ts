// Multi-account sandbox: per-account state, STS AssumeRole (keys that act in the target account, refusal for a
// missing or untrusting role), IAM CreateRole, Organizations listings, and EC2 buckets per account and Region.
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  OrganizationsClient,
  paginateListAccounts,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox/server.js';
import { errorOf, startTestSandbox } from '../helpers/sandbox.js';

const HUB = '111122223333';
const A = '444455556666';
const B = '777788889999';
const OUTSIDE = '999900001111';
let sb: Sandbox;

beforeAll(async () => {
  sb = await startTestSandbox({
    accounts: [
      { id: A, name: 'alpha', roles: ['imds-guard-member'], parentId: 'ou-sbx1-aaaaaaaa' },
      { id: B, name: 'beta' },
      { id: OUTSIDE, inOrganization: false, roles: ['imds-guard-member'] },
    ],
  });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const cfg = (credentials: Creds, region = 'eu-west-1') => ({ endpoint: sb.url, region, credentials, maxAttempts: 1 });
const hubCreds: Creds = { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 's' };
const roleArn = (account: string, name = 'imds-guard-member') => `arn:aws:iam::${account}:role/${name}`;

async function assume(account: string, name?: string, from: Creds = hubCreds): Promise<Creds> {
  const out = await new STSClient(cfg(from)).send(
    new AssumeRoleCommand({ RoleArn: roleArn(account, name), RoleSessionName: 'imds-guard-test' }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

const run = (ec2: EC2Client) => ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1 }));
const ids = async (ec2: EC2Client) =>
  ((await ec2.send(new DescribeInstancesCommand({}))).Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);

describe('STS AssumeRole', () => {
  it('returns credentials that act in the target account, with that account’s own state', async () => {
    const creds = await assume(A);
    const me = await new STSClient(cfg(creds)).send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(A);
    expect(me.Arn).toBe(`arn:aws:sts::${A}:assumed-role/imds-guard-member/imds-guard-test`);
    const member = new EC2Client(cfg(creds));
    const hub = new EC2Client(cfg(hubCreds));
    const launched = (await run(member)).Instances![0]!.InstanceId!;
    expect(await ids(member)).toEqual([launched]);
    expect(await ids(hub)).toEqual([]);
    expect(sb.account(A).region('eu-west-1').instances.has(launched)).toBe(true);
    expect(sb.state.region('eu-west-1').instances.size).toBe(0);
  });

  it('refuses a role that does not exist in the account, naming the role', async () => {
    const e = await errorOf(assume(B));
    expect(e.name).toBe('AccessDenied');
    expect(e.message).toContain(roleArn(B));
    expect(e.$metadata?.httpStatusCode).toBe(403);
    expect(sb.assumeRoleCalls().map((c) => [c.account, c.outcome])).toEqual([[B, 'AccessDenied']]);
  });

  it('evaluates the trust policy: principal ARN and aws:PrincipalOrgID', async () => {
    const trust = (org: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${HUB}:role/imds-guard-local` },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:PrincipalOrgID': org } },
          },
        ],
      });
    sb.createRole(B, 'in-org', trust('o-sandbox0001'));
    sb.createRole(B, 'other-org', trust('o-elsewhere000'));
    expect((await assume(B, 'in-org')).accessKeyId).toMatch(/^ASIA/);
    expect((await errorOf(assume(B, 'other-org'))).name).toBe('AccessDenied');
    // A caller outside the organization fails the condition even with the right role name.
    expect((await errorOf(assume(B, 'in-org', await assume(OUTSIDE)))).name).toBe('AccessDenied');
  });

  it('creates roles through IAM CreateRole in the calling account', async () => {
    const iam = new IAMClient({ ...cfg({ accessKeyId: `AKID${B}`, secretAccessKey: 's' }), region: 'us-east-1' });
    const out = await iam.send(new CreateRoleCommand({ RoleName: 'imds-guard-member', AssumeRolePolicyDocument: '{"Statement":[]}' }));
    expect(out.Role?.Arn).toBe(roleArn(B));
    // An empty trust policy trusts nobody.
    expect((await errorOf(assume(B))).name).toBe('AccessDenied');
    expect(sb.account(HUB).roles.size).toBe(0);
  });

  it('validates the session name and can throttle one account', async () => {
    const sts = new STSClient(cfg(hubCreds));
    const bad = await errorOf(sts.send(new AssumeRoleCommand({ RoleArn: roleArn(A), RoleSessionName: 'has space' })));
    expect(bad.name).toBe('ValidationError');
    sb.throttleAssumeRole(A);
    expect((await errorOf(assume(A))).name).toBe('Throttling');
    sb.throttleAssumeRole(A, false);
    expect((await assume(A)).accessKeyId).toMatch(/^ASIA/);
  });
});

describe('Organizations', () => {
  const orgs = (c: Creds = hubCreds) => new OrganizationsClient({ ...cfg(c), region: 'us-east-1' });

  it('lists member accounts (not the outside one), paged', async () => {
    const all: string[] = [];
    for await (const p of paginateListAccounts({ client: orgs(), pageSize: 2 }, {})) all.push(...(p.Accounts ?? []).map((a) => a.Id!));
    expect(all).toEqual([HUB, A, B]);
    const first = await orgs().send(new ListAccountsCommand({ MaxResults: 1 }));
    expect(first.NextToken).toBeDefined();
    expect(first.Accounts?.[0]?.Status).toBe('ACTIVE');
    expect(first.Accounts?.[0]?.JoinedTimestamp).toBeInstanceOf(Date);
  });

  it('lists accounts of one parent and describes the organization', async () => {
    const ou = await orgs().send(new ListAccountsForParentCommand({ ParentId: 'ou-sbx1-aaaaaaaa' }));
    expect(ou.Accounts?.map((a) => a.Id)).toEqual([A]);
    const root = await orgs().send(new ListAccountsForParentCommand({ ParentId: 'r-sbx1' }));
    expect(root.Accounts?.map((a) => a.Id)).toEqual([HUB, B]);
    expect((await errorOf(orgs().send(new ListAccountsForParentCommand({ ParentId: 'ou-sbx1-bbbbbbbb' })))).name).toBe(
      'ParentNotFoundException',
    );
    const d = await orgs().send(new DescribeOrganizationCommand({}));
    expect(d.Organization?.Id).toBe('o-sandbox0001');
    expect(d.Organization?.MasterAccountId).toBe(HUB);
  });

  it('answers AWSOrganizationsNotInUseException outside the organization and without one', async () => {
    const e = await errorOf(orgs({ accessKeyId: `AKID${OUTSIDE}`, secretAccessKey: 's' }).send(new ListAccountsCommand({})));
    expect(e.name).toBe('AWSOrganizationsNotInUseException');
    const single = await startTestSandbox();
    try {
      const c = new OrganizationsClient({ endpoint: single.url, region: 'us-east-1', credentials: hubCreds, maxAttempts: 1 });
      expect((await errorOf(c.send(new ListAccountsCommand({})))).name).toBe('AWSOrganizationsNotInUseException');
    } finally {
      await single.close();
    }
  });
});

describe('EC2 buckets per account and Region', () => {
  it('throttles one account without touching another', async () => {
    sb.setThrottle({ capacity: 2, refill: { 'non-mutating': 0.001, 'unfiltered-non-mutating': 0.001 } });
    const a = new EC2Client(cfg({ accessKeyId: `AKID${A}`, secretAccessKey: 's' }));
    const b = new EC2Client(cfg({ accessKeyId: `AKID${B}`, secretAccessKey: 's' }));
    const aUs = new EC2Client(cfg({ accessKeyId: `AKID${A}`, secretAccessKey: 's' }, 'us-east-1'));
    await ids(a);
    await ids(a);
    expect((await errorOf(ids(a))).name).toBe('RequestLimitExceeded');
    expect(await ids(b)).toEqual([]);
    expect(await ids(aUs)).toEqual([]);
  });
});

describe('control plane', () => {
  it('creates roles and lists the accounts over HTTP', async () => {
    const post = await fetch(`${sb.url}/_sandbox/roles`, { method: 'POST', body: JSON.stringify({ account: B, name: 'seeded' }) });
    expect(await post.json()).toEqual({ arn: roleArn(B, 'seeded') });
    expect((await assume(B, 'seeded')).accessKeyId).toMatch(/^ASIA/);
    const bad = await fetch(`${sb.url}/_sandbox/roles`, { method: 'POST', body: JSON.stringify({ name: 'x' }) });
    expect(bad.status).toBe(400);
    const view = (await (await fetch(`${sb.url}/_sandbox/accounts`)).json()) as { members: { Id: string }[] };
    expect(view.members.map((m) => m.Id)).toEqual([HUB, A, B]);
  });
});
