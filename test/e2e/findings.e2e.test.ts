// Issue 15, findings in and out: an AWS EC2.8 finding, imported as Security Hub's own control would, routes its
// instance through the same remediation as a CloudTrail event; the finding goes FAILED/NEW -> RESOLVED with a
// note; the audit message it publishes, delivered to publish-findings as SNS would, makes imds-guard's own
// finding say PASSED/RESOLVED, an exempt instance's finding goes NOTIFIED with the
// reason, and the echo of imds-guard's own update triggers nothing.
import { GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { afterAll, beforeAll, describe, expect, vi } from 'vitest';
import { callCounter, createIdempotencyTable, describe as describeInstances, lambdaFor, options, sandboxIt } from '../helpers/sandbox.js';
import { startTarget, type Target } from '../helpers/sandbox.js';
import { launchInstances } from '../helpers/launch.js';
import { snsEventOf } from '../helpers/lambda.js';

const TABLE = 'imds-guard-e2e-findings';
let t: Target;
let hub: SecurityHubClient;
let account: string;
let handler: (event: unknown) => Promise<any>;
let publish: (event: unknown) => Promise<any>;

beforeAll(async () => {
  t = await startTarget();
  account = t.sandbox?.state.accountId ?? '111122223333';
  hub = new SecurityHubClient({ region: t.region, endpoint: t.endpoint });
  await createIdempotencyTable(t.endpoint, t.region, TABLE);
  handler = await lambdaFor(t, 'enforce-findings', { IDEMPOTENCY_TABLE: TABLE });
  publish = await lambdaFor(t, 'publish-findings');
}, 120_000);
afterAll(async () => {
  vi.unstubAllEnvs();
  await t?.close();
});

const AWS_PRODUCT = () => `arn:aws:securityhub:${t.region}::product/aws/securityhub`;
const instanceArn = (id: string) => `arn:aws:ec2:${t.region}:${account}:instance/${id}`;

/** An EC2.8 finding as Security Hub CSPM's consolidated control findings look (ASFF). */
function ec2_8(instanceId: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    SchemaVersion: '2018-10-08',
    Id: `arn:aws:securityhub:${t.region}:${account}:security-control/EC2.8/finding/${crypto.randomUUID()}`,
    ProductArn: AWS_PRODUCT(),
    ProductName: 'Security Hub',
    CompanyName: 'AWS',
    GeneratorId: 'security-control/EC2.8',
    AwsAccountId: account,
    Region: t.region,
    Types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
    CreatedAt: now,
    UpdatedAt: now,
    Severity: { Label: 'HIGH', Original: 'HIGH' },
    Title: 'EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)',
    Description: 'This control checks whether your EC2 instance metadata version is configured with IMDSv2.',
    ProductFields: { ControlId: 'EC2.8', 'aws/securityhub/ProductName': 'Security Hub' },
    Compliance: { Status: 'FAILED', SecurityControlId: 'EC2.8' },
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
    Resources: [{ Type: 'AwsEc2Instance', Id: instanceArn(instanceId), Partition: 'aws', Region: t.region }],
  };
}

async function findingsWhere(filters: Record<string, string>): Promise<AwsSecurityFinding[]> {
  const Filters = Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, [{ Value: v, Comparison: 'EQUALS' as const }]]));
  return (await hub.send(new GetFindingsCommand({ Filters }))).Findings ?? [];
}

/** The event Security Hub sends for a finding's import or update: one finding, as stored now. */
async function importedEvent(id: string): Promise<Record<string, unknown>> {
  const [f] = await findingsWhere({ Id: id });
  expect(f).toBeDefined();
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account,
    time: new Date().toISOString(),
    region: t.region,
    resources: [`${f!.ProductArn}/${f!.Id}`],
    detail: { findings: [f] },
  };
}

describe('findings in (EC2.8) and out', () => {
  sandboxIt('a non-compliant instance: FAILED -> remediated -> RESOLVED, and imds-guard says PASSED', async () => {
    const [node] = await launchInstances(t.ec2, 1, 'optional', 2, { 'eks:cluster-name': 'payments', owner: 'team-payments' });
    const id = node!.InstanceId!;
    const finding = ec2_8(id);
    t.sandbox!.securityHub.seed(finding);
    const [before] = await findingsWhere({ Id: finding.Id as string });
    expect([before!.Compliance?.Status, before!.Workflow?.Status]).toEqual(['FAILED', 'NEW']);

    const seen = t.sandbox!.messages().length;
    const out = await handler(await importedEvent(finding.Id as string));
    expect(out).toMatchObject({ status: 'done', findingsUpdated: 1, counts: { remediated: 1 } });
    expect(options((await describeInstances(t, [id])).get(id))).toEqual(['required', 1]);
    // Findings out: the audit topic's message, delivered to publish-findings (its subscriber when securityHub is on).
    const published = t.sandbox!.messages().slice(seen);
    expect(published).toHaveLength(1);
    expect(await publish(snsEventOf(published))).toMatchObject({ records: 1, findings: { imported: 1, failed: 0, workflowUpdated: 1 } });

    const [after] = await findingsWhere({ Id: finding.Id as string });
    expect(after!.Workflow?.Status).toBe('RESOLVED');
    expect(after!.Note).toMatchObject({ UpdatedBy: 'imds-guard' });
    expect(after!.Note!.Text).toMatch(new RegExp(`^imds-guard: remediated ${id} \\(HttpTokens required, hop limit 1\\)`));
    const own = await findingsWhere({
      ProductArn: `arn:aws:securityhub:${t.region}:${account}:product/${account}/default`,
      ResourceId: instanceArn(id),
    });
    expect(own).toHaveLength(1);
    expect([own[0]!.Compliance?.Status, own[0]!.Workflow?.Status, own[0]!.GeneratorId]).toEqual([
      'PASSED',
      'RESOLVED',
      'imds-guard/imdsv2-hop-limit',
    ]);

    // The echo of imds-guard's own update (and of its own finding) triggers nothing: no AWS call at all.
    const echoes = [await importedEvent(finding.Id as string), await importedEvent(own[0]!.Id!)];
    const calls = callCounter(t);
    for (const echo of echoes) expect(await handler(echo)).toMatchObject({ status: 'ignored', reason: 'self-caused' });
    expect(calls.since()).toEqual({});
  });

  sandboxIt('an exempt instance: NOTIFIED with the reason, the instance untouched', async () => {
    const tags = { 'eks:cluster-name': 'payments', 'imds-guard:exempt': 'true' };
    const [node] = await launchInstances(t.ec2, 1, 'optional', 2, tags);
    const id = node!.InstanceId!;
    const finding = ec2_8(id);
    t.sandbox!.securityHub.seed(finding);
    const out = await handler(await importedEvent(finding.Id as string));
    expect(out).toMatchObject({ status: 'done', findingsUpdated: 1, counts: { exempt: 1 } });
    expect(options((await describeInstances(t, [id])).get(id))).toEqual(['optional', 2]);
    const [after] = await findingsWhere({ Id: finding.Id as string });
    expect(after!.Workflow?.Status).toBe('NOTIFIED');
    expect(after!.Note!.Text).toMatch(new RegExp(`^imds-guard: exempt ${id}: .*imds-guard:exempt`));
  });

  sandboxIt('the same finding update delivered twice runs once (finding id + UpdatedAt)', async () => {
    const [node] = await launchInstances(t.ec2, 1, 'optional', 2, { 'eks:cluster-name': 'payments' });
    const finding = ec2_8(node!.InstanceId!);
    t.sandbox!.securityHub.seed(finding);
    const event = await importedEvent(finding.Id as string);
    expect(await handler(event)).toMatchObject({ status: 'done' });
    const calls = callCounter(t);
    // A redelivery has a new EventBridge id but the same finding state.
    expect(await handler({ ...event, id: crypto.randomUUID() })).toMatchObject({ duplicate: true });
    // Only the idempotency store is asked: no EC2, SNS or Security Hub call.
    expect(Object.keys(calls.since()).filter((op) => !['GetItem', 'PutItem'].includes(op))).toEqual([]);
  });

  sandboxIt('bad input: a structured rejection, no AWS call', async () => {
    const calls = callCounter(t);
    const out = await handler({ source: 'aws.securityhub', 'detail-type': 'Security Hub Findings - Imported', detail: {} });
    expect(out).toMatchObject({ status: 'invalid', message: 'not a Security Hub findings event' });
    expect(calls.since()).toEqual({});
  });
});
