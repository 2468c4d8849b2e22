// imds-guard scan/enforce across accounts (--accounts, --org, --ou, --role-name) on the multi-account sandbox:
// every output gains the account, bad input fails naming it, and the exit codes are the single-account ones.
import { EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetAccountCredentials } from '../../lib/shell/accounts.js';
import type { Sandbox } from '../../sandbox/server.js';
import { launchInstances } from '../helpers/launch.js';
import { startTestSandbox } from '../helpers/sandbox.js';
import { cli } from './helpers.js';

const [A, B] = ['333300000001', '333300000002'];
const NO_ROLE = '333300000009';
const OU = 'ou-sbx1-platform1';
const R = ['eu-west-1', 'us-east-1'];
let sb: Sandbox;

beforeAll(async () => {
  sb = await startTestSandbox({
    accounts: [
      { id: A, roles: ['imds-guard-member', 'other-role'], parentId: OU },
      { id: B, roles: ['imds-guard-member', 'other-role'], parentId: OU },
      { id: NO_ROLE, parentId: 'ou-sbx1-sandbox01' },
    ],
  });
});
afterAll(() => sb.close());
beforeEach(async () => {
  sb.reset();
  resetAccountCredentials();
  for (const a of [A, B])
    for (const region of R) {
      const sts = new STSClient({ region, endpoint: sb.url });
      const c = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${a}:role/imds-guard-member`, RoleSessionName: 'seed' })))
        .Credentials!;
      const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
      await launchInstances(new EC2Client({ region, endpoint: sb.url, credentials }), 2, 'optional', 2, { 'eks:cluster-name': 'pay' });
    }
});

const at = () => ['--endpoint-url', sb.url, '--regions', R.join(',')];

describe('imds-guard across accounts', () => {
  it('--ou: scans every account of the OU in every Region; JSON records and units carry the account', async () => {
    const r = await cli(['scan', '--ou', OU, '--output', 'json', ...at()]);
    expect(r.code).toBe(1);
    const j = r.json<{ regions: { account: string; region: string }[]; records: { resource: { account: string; type: string } }[] }>();
    expect(j.regions.map((u) => `${u.account}/${u.region}`).sort()).toEqual([
      `${A}/eu-west-1`,
      `${A}/us-east-1`,
      `${B}/eu-west-1`,
      `${B}/us-east-1`,
    ]);
    const instances = j.records.filter((x) => x.resource.type === 'instance');
    expect(instances.filter((x) => x.resource.account === A)).toHaveLength(4);
    expect(instances.filter((x) => x.resource.account === B)).toHaveLength(4);
  });

  it('enforce --accounts: fixes both accounts; the table and the CSV show the account', async () => {
    const r = await cli(['enforce', '--yes', '--accounts', `${A},${B}`, ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ACCOUNT\s+REGION\s+TYPE/m);
    expect(r.stdout).toMatch(new RegExp(`${B}/us-east-1: .*2 remediated`));
    for (const a of [A, B])
      for (const region of R)
        for (const i of sb.account(a).region(region).instances.values()) expect(i.metadata.HttpTokens).toBe('required');
    const csv = await cli(['scan', '--accounts', A, '--output', 'csv', '--all', ...at()]);
    const [head, ...rows] = csv.stdout.trim().split('\r\n');
    expect(head!.split(',')[0]).toBe('account');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.split(',')[0]).toBe(A);
  });

  it('an account without the role: exit 2, its Regions name the account, the others still run', async () => {
    const r = await cli(['enforce', '--yes', '--accounts', `${A},${NO_ROLE}`, ...at()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${NO_ROLE}/eu-west-1: ERROR MemberAccessError`);
    expect(r.stdout).toMatch(new RegExp(`${A}/eu-west-1: .*2 remediated`));
  });

  it('--role-name picks the role to assume', async () => {
    await cli(['scan', '--accounts', A, '--role-name', 'other-role', '--output', 'json', ...at()]);
    expect(sb.assumeRoleCalls().at(-1)).toMatchObject({ account: A, roleArn: `arn:aws:iam::${A}:role/other-role`, outcome: 'ok' });
  });

  it.each([
    [['--accounts', '1234'], '--accounts: "1234" is not an AWS account id (12 digits)'],
    [['--ou', 'ou-sbx1-missing01'], '--ou: OU ou-sbx1-missing01 was not found in the organization'],
    [['--org', '--ou', OU], '--org and --ou cannot be combined'],
    [['--role-name', 'x'], '--role-name needs --accounts, --org or --ou'],
  ])('bad input %j: exit 2, one line naming it', async (args, message) => {
    const r = await cli(['scan', ...args, ...at()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
