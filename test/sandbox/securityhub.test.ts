import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
  type AwsSecurityFinding,
} from '@aws-sdk/client-securityhub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toAsff, type AsffFinding } from '../../lib/report/findings/asff.js';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';
import { record } from '../report/findings/records.js';

let h: Harness;
let hub: SecurityHubClient;
beforeAll(async () => {
  h = await harness();
  hub = new SecurityHubClient(h.cfg);
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const asSdk = (f: AsffFinding | Record<string, unknown>) => f as unknown as AwsSecurityFinding;
const byId = (f: AsffFinding) => ({ Id: [{ Value: f.Id, Comparison: 'EQUALS' as const }] });
async function get(f: AsffFinding): Promise<AwsSecurityFinding> {
  const out = await hub.send(new GetFindingsCommand({ Filters: byId(f) }));
  expect(out.Findings).toHaveLength(1);
  return out.Findings![0]!;
}

describe('sandbox Security Hub: BatchImportFindings', () => {
  it('accepts what toAsff makes, and GetFindings returns it', async () => {
    const f = toAsff(record('instance', 'would-remediate'));
    const out = await hub.send(new BatchImportFindingsCommand({ Findings: [asSdk(f)] }));
    expect(out).toMatchObject({ FailedCount: 0, SuccessCount: 1, FailedFindings: [] });
    const got = await get(f);
    expect(got).toMatchObject({
      Id: f.Id,
      ProductArn: f.ProductArn,
      Compliance: { Status: 'FAILED' },
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
      Remediation: { Recommendation: { Text: f.Remediation.Recommendation.Text } },
    });
    expect(got.Resources![0]!.Details!.AwsEc2Instance!.MetadataOptions).toEqual({
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 2,
      HttpEndpoint: 'enabled',
    });
  });

  it('every resource type and outcome imports', async () => {
    const findings = (['instance', 'launch-template', 'nodegroup', 'account-defaults'] as const).flatMap((t) =>
      (['remediated', 'failed', 'reported', 'exempt', 'would-remediate'] as const).map((o) => asSdk(toAsff(record(t, o)))),
    );
    const out = await hub.send(new BatchImportFindingsCommand({ Findings: findings }));
    expect([out.FailedCount, out.SuccessCount]).toEqual([0, 20]);
  });

  for (const field of ['Title', 'Resources', 'Severity', 'SchemaVersion', 'ProductArn', 'GeneratorId', 'Types', 'CreatedAt']) {
    it(`a finding without ${field} is a FailedFinding; the others in the batch go in`, async () => {
      const good = toAsff(record('instance', 'failed'));
      const bad: Record<string, unknown> = { ...toAsff(record('launch-template', 'failed')) };
      delete bad[field];
      const out = await hub.send(new BatchImportFindingsCommand({ Findings: [asSdk(good), asSdk(bad)] }));
      expect([out.FailedCount, out.SuccessCount]).toEqual([1, 1]);
      expect(out.FailedFindings![0]).toMatchObject({ Id: bad.Id, ErrorCode: 'InvalidInput' });
      expect(out.FailedFindings![0]!.ErrorMessage).toMatch(/ProductArn|Amazon Finding Format/);
      const all = await hub.send(new GetFindingsCommand({}));
      expect(all.Findings!.map((x) => x.Id)).toEqual([good.Id]);
    });
  }

  it('a finding for another account or Region is rejected', async () => {
    const other = { ...toAsff(record('instance', 'failed')), AwsAccountId: '444455556666' };
    const elsewhere = toAsff(record('instance', 'failed', { region: 'us-east-1' }));
    const out = await hub.send(new BatchImportFindingsCommand({ Findings: [asSdk(other), asSdk(elsewhere)] }));
    expect(out.FailedCount).toBe(2);
  });

  it('more than 100 findings in one call is an InvalidInputException', async () => {
    const f = asSdk(toAsff(record('instance', 'failed')));
    const e = await errorOf(hub.send(new BatchImportFindingsCommand({ Findings: Array.from({ length: 101 }, () => f) })));
    expect(e.name).toBe('InvalidInputException');
  });

  it('the same Id and ProductArn again updates in place: UpdatedAt new, CreatedAt and FirstObservedAt kept', async () => {
    const first = toAsff(record('instance', 'would-remediate'), { firstObservedAt: '2026-11-20T10:15:31.000Z' });
    await hub.send(new BatchImportFindingsCommand({ Findings: [asSdk(first)] }));
    const later = toAsff(record('instance', 'remediated'), {
      createdAt: '2026-11-21T00:00:00.000Z',
      updatedAt: '2026-11-21T00:00:00.000Z',
      firstObservedAt: '2026-11-21T00:00:00.000Z',
    });
    expect(later.Id).toBe(first.Id);
    await hub.send(new BatchImportFindingsCommand({ Findings: [asSdk(later)] }));
    const all = await hub.send(new GetFindingsCommand({}));
    expect(all.Findings).toHaveLength(1);
    expect(all.Findings![0]).toMatchObject({
      UpdatedAt: '2026-11-21T00:00:00.000Z',
      CreatedAt: first.CreatedAt,
      FirstObservedAt: '2026-11-20T10:15:31.000Z',
      Compliance: { Status: 'PASSED' },
      // Workflow is the customer's once the finding exists: only BatchUpdateFindings moves it.
      Workflow: { Status: 'NEW' },
    });
  });
});

describe('sandbox Security Hub: BatchUpdateFindings', () => {
  it('sets Workflow.Status and Note; unknown findings come back unprocessed', async () => {
    const f = toAsff(record('instance', 'failed'));
    await hub.send(new BatchImportFindingsCommand({ Findings: [asSdk(f)] }));
    const missing = { Id: 'nope', ProductArn: f.ProductArn };
    const out = await hub.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: f.Id, ProductArn: f.ProductArn }, missing],
        Workflow: { Status: 'RESOLVED' },
        Note: { Text: 'imds-guard set HttpTokens=required', UpdatedBy: 'imds-guard' },
      }),
    );
    expect(out.ProcessedFindings).toEqual([{ Id: f.Id, ProductArn: f.ProductArn }]);
    expect(out.UnprocessedFindings).toEqual([
      { FindingIdentifier: missing, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding Not Found' },
    ]);
    const got = await get(f);
    expect(got.Workflow).toEqual({ Status: 'RESOLVED' });
    expect(got.Note).toMatchObject({ Text: 'imds-guard set HttpTokens=required', UpdatedBy: 'imds-guard' });
    expect(got.UpdatedAt).toBe(f.UpdatedAt);
  });

  it('a re-import keeps the customer fields; PASSED -> FAILED resets RESOLVED to NEW', async () => {
    const passed = toAsff(record('instance', 'remediated'));
    await hub.send(new BatchImportFindingsCommand({ Findings: [asSdk(passed)] }));
    const ids = [{ Id: passed.Id, ProductArn: passed.ProductArn }];
    await hub.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: ids, Workflow: { Status: 'RESOLVED' } }));
    await hub.send(new BatchImportFindingsCommand({ Findings: [asSdk({ ...passed, UpdatedAt: '2026-11-22T00:00:00.000Z' })] }));
    expect((await get(passed)).Workflow).toEqual({ Status: 'RESOLVED' });
    await hub.send(new BatchImportFindingsCommand({ Findings: [asSdk(toAsff(record('instance', 'failed')))] }));
    expect((await get(passed)).Workflow).toEqual({ Status: 'NEW' });
  });

  it('rejects an unknown workflow status and a note without its author', async () => {
    const ids = [{ Id: 'x', ProductArn: 'y' }];
    const bad = await errorOf(hub.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: ids, Workflow: { Status: 'DONE' as never } })));
    expect(bad.name).toBe('InvalidInputException');
    const note = await errorOf(hub.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: ids, Note: { Text: 'x' } as never })));
    expect(note.name).toBe('InvalidInputException');
  });
});

describe('sandbox Security Hub: GetFindings', () => {
  async function seed(): Promise<AsffFinding[]> {
    const fs = [
      toAsff(record('instance', 'failed')),
      toAsff(record('launch-template', 'remediated')),
      toAsff(record('nodegroup', 'reported')),
      toAsff(record('account-defaults', 'exempt')),
    ];
    await hub.send(new BatchImportFindingsCommand({ Findings: fs.map(asSdk) }));
    return fs;
  }
  const eq = (Value: string) => [{ Value, Comparison: 'EQUALS' as const }];
  const ids = async (Filters: object) => (await hub.send(new GetFindingsCommand({ Filters }))).Findings!.map((f) => f.Id).sort();

  it('filters by Id, ProductArn, ComplianceStatus, WorkflowStatus and ResourceId (EQUALS; fields ANDed, values ORed)', async () => {
    const [inst, lt, ng, acct] = await seed();
    expect(await ids({ ComplianceStatus: eq('FAILED') })).toEqual([inst!.Id, ng!.Id].sort());
    expect(await ids({ WorkflowStatus: eq('NOTIFIED') })).toEqual([ng!.Id, acct!.Id].sort());
    expect(await ids({ ResourceId: eq(lt!.Resources[0]!.Id) })).toEqual([lt!.Id]);
    expect(await ids({ ProductArn: eq(inst!.ProductArn), ComplianceStatus: eq('WARNING') })).toEqual([acct!.Id]);
    expect(await ids({ Id: [...eq(inst!.Id), ...eq(lt!.Id)] })).toEqual([inst!.Id, lt!.Id].sort());
    expect(await ids({ ProductArn: eq('arn:aws:securityhub:eu-west-1:111122223333:product/aws/securityhub') })).toEqual([]);
  });

  it('pages with MaxResults and NextToken', async () => {
    const all = await seed();
    const first = await hub.send(new GetFindingsCommand({ MaxResults: 3 }));
    expect(first.Findings).toHaveLength(3);
    const second = await hub.send(new GetFindingsCommand({ MaxResults: 3, NextToken: first.NextToken }));
    expect(second.Findings).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    expect([...first.Findings!, ...second.Findings!].map((f) => f.Id).sort()).toEqual(all.map((f) => f.Id).sort());
  });

  it('a filter or comparison it does not implement is an error, not an empty answer', async () => {
    await seed();
    const e1 = await errorOf(hub.send(new GetFindingsCommand({ Filters: { Title: eq('x') } })));
    expect(e1.name).toBe('InvalidInputException');
    const e2 = await errorOf(hub.send(new GetFindingsCommand({ Filters: { Id: [{ Value: 'x', Comparison: 'PREFIX' }] } })));
    expect(e2.name).toBe('InvalidInputException');
  });
});
