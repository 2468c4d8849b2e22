// Findings out against the sandbox's Security Hub: batches of at most 100, one finding per resource, refusals
// counted (never dropped silently), workflow moved by BatchUpdateFindings on an existing finding.
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lib/domain/audit.js';
import { findingId } from '../../lib/report/findings/asff.js';
import { FindingsCallError, findingsOf, sendFindings } from '../../lib/shell/security-hub.js';
import { closeFinding } from '../../lib/shell/security-hub-update.js';
import { harness, type Harness } from '../helpers/sandbox.js';
import { record } from '../report/findings/records.js';

let h: Harness;
let hub: SecurityHubClient;
beforeAll(async () => {
  h = await harness();
  hub = new SecurityHubClient(h.cfg);
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const clientFor = () => hub;
const withId = (r: AuditRecord, id: string): AuditRecord => ({
  ...r,
  resource: { ...r.resource, id, arn: r.resource.arn.replace(/[^/]+$/, id) },
});
const all = async () => (await hub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? [];

describe('sendFindings', () => {
  it('150 resources: two BatchImportFindings calls (100 + 50), every finding imported', async () => {
    const records = Array.from({ length: 150 }, (_, i) =>
      withId(record('instance', 'would-remediate'), `i-${(i + 1).toString(16).padStart(8, '0')}`),
    );
    const before = h.sb.stats().calls.BatchImportFindings ?? 0;
    expect(await sendFindings(records, clientFor)).toEqual({ imported: 150, failed: 0, workflowUpdated: 0 });
    expect((h.sb.stats().calls.BatchImportFindings ?? 0) - before).toBe(2);
  });

  it('a refused finding is counted as failed; the rest of the batch goes in', async () => {
    const ok = record('instance', 'would-remediate');
    const foreign = {
      ...record('launch-template', 'would-remediate'),
      resource: { ...record('launch-template', 'would-remediate').resource, account: '999988887777' },
    };
    expect(await sendFindings([ok, foreign], clientFor)).toMatchObject({ imported: 1, failed: 1 });
    expect((await all()).map((f) => f.Id)).toEqual([findingId(ok)]);
  });

  it('a later record for the same resource updates the same finding, and moves it to RESOLVED', async () => {
    const dry = record('instance', 'would-remediate');
    await sendFindings([dry], clientFor);
    const fixed = { ...record('instance', 'remediated'), time: new Date(Date.parse(dry.time) + 60_000).toISOString() };
    expect(await sendFindings([fixed], clientFor)).toEqual({ imported: 1, failed: 0, workflowUpdated: 1 });
    const [f, ...rest] = await all();
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ Id: findingId(dry), Compliance: { Status: 'PASSED' }, Workflow: { Status: 'RESOLVED' } });
    expect(f!.Note).toMatchObject({ Text: 'imds-guard: remediated', UpdatedBy: 'imds-guard' });
  });

  it('out-of-scope records are not sent; two records of one resource in a run make one finding, the later one', () => {
    const a = record('instance', 'would-remediate');
    const b = { ...record('instance', 'remediated'), time: new Date(Date.parse(a.time) + 1000).toISOString() };
    const out = findingsOf([b, a, record('launch-template', 'out-of-scope')]);
    expect(out.map((f) => [f.Id, f.Compliance.Status])).toEqual([[findingId(a), 'PASSED']]);
  });

  it('Security Hub unreachable: counted as failed, not thrown', async () => {
    const broken = new SecurityHubClient({ ...h.cfg, endpoint: 'http://127.0.0.1:9' });
    expect(await sendFindings([record('instance', 'failed')], () => broken)).toEqual({ imported: 0, failed: 1, workflowUpdated: 0 });
  });

  it('a failed call with throwOnCallFailure (publish-findings): thrown after every batch was tried', async () => {
    const broken = new SecurityHubClient({ ...h.cfg, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    let calls = 0;
    const firstFails = { send: ((cmd: never) => (calls++ === 0 ? broken.send(cmd) : hub.send(cmd))) as SecurityHubClient['send'] };
    const records = Array.from({ length: 150 }, (_, i) =>
      withId(record('instance', 'would-remediate'), `i-${(i + 1).toString(16).padStart(8, '0')}`),
    );
    const err = await sendFindings(records, () => firstFails, { throwOnCallFailure: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FindingsCallError);
    expect((err as FindingsCallError).sent).toEqual({ imported: 50, failed: 100, workflowUpdated: 0 });
    expect(await all()).toHaveLength(50);
  });

  it('a refused finding is not a call failure: counted, not thrown, even with throwOnCallFailure', async () => {
    const r = record('instance', 'failed');
    const foreign = { ...r, resource: { ...r.resource, account: '999988887777' } };
    expect(await sendFindings([foreign], clientFor, { throwOnCallFailure: true })).toMatchObject({ imported: 0, failed: 1 });
  });
});

describe('closeFinding', () => {
  it('an unknown finding is reported as not updated', async () => {
    const ref = { format: 'asff' as const, Id: 'nope', ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/securityhub' };
    expect(await closeFinding(hub, ref, { workflow: 'RESOLVED', note: 'imds-guard: x' })).toBe(false);
  });
});
