// The pure parts: account-defaults posture, exit codes, the SNS summary, revert selection, CSV.
import { describe, expect, it } from 'vitest';
import { renderCsv } from '../../cli/format.js';
import { parseAuditInput, parseBeforeSpec, RevertInputError, selectReverts } from '../../lib/runs/revert.js';
import { exitCode, regionSummary, renderSummaryMessage, summarize } from '../../lib/report/summary.js';
import { buildRecord, type AuditRecord, type Outcome } from '../../lib/domain/audit.js';
import { applyDefaultsChange, evaluateDefaults, toAccountDefaults } from '../../lib/kinds/account-defaults/policy.js';
import { instanceResource } from '../helpers/records.js';

const trigger = {
  source: 'cli' as const,
  eventName: 'Enforce',
  eventId: 'run-1',
  eventTime: '2026-01-01T00:00:00Z',
  actor: 'arn:aws:iam::111122223333:user/a',
  region: 'eu-west-1',
  account: '111122223333',
};
function rec(id: string, outcome: Outcome, extra: Partial<AuditRecord> = {}): AuditRecord {
  return buildRecord({
    trigger,
    mode: 'enforce',
    outcome,
    resource: instanceResource(id, { owner: 'team-a' }),
    ...extra,
  });
}

describe('account defaults posture', () => {
  const policy = { maxHopLimit: 1 };
  it('no preference is not compliant: both fields are set, tokens required', () => {
    const p = evaluateDefaults({}, policy);
    expect(p.compliant).toBe(false);
    expect(p.violations).toEqual([
      'HttpTokens is no-preference, expected required',
      'HttpPutResponseHopLimit is no-preference, expected <= 1',
    ]);
    expect(p.change).toEqual({ httpTokens: 'required', hopLimit: 1 });
  });
  it('a compliant lower hop limit is kept; a high one is lowered', () => {
    expect(evaluateDefaults({ httpTokens: 'optional', hopLimit: 1 }, { maxHopLimit: 2 }).change).toEqual({
      httpTokens: 'required',
      hopLimit: 1,
    });
    expect(evaluateDefaults({ httpTokens: 'required', hopLimit: 3 }, policy).change).toEqual({ httpTokens: 'required', hopLimit: 1 });
    expect(evaluateDefaults({ httpTokens: 'required', hopLimit: 1 }, policy)).toMatchObject({ compliant: true, violations: [] });
  });
  it('HttpTokensEnforced only when asked for; a declarative policy cannot be changed here', () => {
    expect(evaluateDefaults({ httpTokens: 'required', hopLimit: 1 }, policy, { enforceTokens: true }).change).toEqual({
      httpTokens: 'required',
      hopLimit: 1,
      httpTokensEnforced: 'enabled',
    });
    const managed = evaluateDefaults({ managedBy: 'declarative-policy' }, policy);
    expect(managed.compliant).toBe(false);
    expect(managed.change).toBeUndefined();
    expect(managed.notes.join(' ')).toMatch(/declarative policy/);
    expect(evaluateDefaults({ httpTokens: 'required', hopLimit: 1, httpTokensEnforced: 'enabled' }, policy).notes.join(' ')).toMatch(
      /UnsupportedOperation/,
    );
  });
  it('normalises the API shape', () => {
    expect(
      toAccountDefaults({ HttpTokens: 'no-preference', HttpPutResponseHopLimit: -1, HttpEndpoint: 'enabled', ManagedBy: 'account' }),
    ).toEqual({ httpEndpoint: 'enabled', managedBy: 'account' });
    expect(applyDefaultsChange({ httpEndpoint: 'enabled' }, { httpTokens: 'required', hopLimit: 1 })).toEqual({
      httpEndpoint: 'enabled',
      httpTokens: 'required',
      hopLimit: 1,
    });
  });
});

describe('exit codes', () => {
  it('--fail-on fixable: 2 on a failed Region, 1 on would-remediate or failed, else 0 (reported and exempt need people)', () => {
    expect(exitCode([{ records: [rec('i-1', 'remediated')], error: { name: 'X', message: 'y' } }])).toBe(2);
    expect(exitCode([{ records: [rec('i-1', 'would-remediate')] }])).toBe(1);
    expect(exitCode([{ records: [rec('i-1', 'failed')] }])).toBe(1);
    expect(
      exitCode(
        [
          {
            records: [rec('i-1', 'reported'), rec('i-2', 'exempt'), rec('i-3', 'compliant'), rec('i-4', 'remediated'), rec('i-5', 'gone')],
          },
        ],
        'fixable',
      ),
    ).toBe(0);
  });

  it('--fail-on any (the default): a reported resource left out of policy exits 1 too; exempt never does', () => {
    expect(exitCode([{ records: [rec('i-1', 'reported'), rec('i-4', 'remediated')] }])).toBe(1);
    expect(exitCode([{ records: [rec('i-1', 'reported')] }], 'any')).toBe(1);
    expect(exitCode([{ records: [rec('i-2', 'exempt'), rec('i-3', 'compliant'), rec('i-4', 'remediated'), rec('i-5', 'gone')] }])).toBe(0);
  });
});

describe('summary message', () => {
  it('one message, a body per protocol, kind=summary for subscription filters', () => {
    const rs = regionSummary({
      region: 'eu-west-1',
      records: [rec('i-1', 'remediated'), rec('i-2', 'failed')],
      identity: [{ cluster: 'payments', irsa: false, podIdentityAgent: false, podIdentityAssociations: 0 }],
      accountDefaults: { posture: { compliant: false } },
    });
    const s = summarize(
      { runId: 'run-1', eventName: 'Backfill', account: '111122223333', actor: 'me', startedAt: 't0' },
      'enforce',
      [rs],
      't1',
    );
    const m = renderSummaryMessage(s, 'platform');
    const bodies = JSON.parse(m.message);
    expect(Object.keys(bodies).sort()).toEqual(['default', 'email', 'https', 'lambda', 'sqs']);
    expect(JSON.parse(bodies.default)).toMatchObject({
      schema: 'imds-guard.backfill-summary/v1',
      counts: { remediated: 1, failed: 1 },
      regions: [{ identityNotReady: ['payments'], accountDefaultsCompliant: false }],
    });
    expect(bodies.email).toMatch(/clusters without IRSA or Pod Identity: payments/);
    expect(JSON.parse(bodies.https)).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown' } });
    expect(m.attributes).toMatchObject({ kind: 'summary', outcome: 'failed', severity: 'high', region: 'eu-west-1', owner: 'platform' });
    expect(m.subject.length).toBeLessThan(100);
  });
});

describe('revert input', () => {
  it('--before needs tokens and hop', () => {
    expect(parseBeforeSpec('tokens=optional,hop=2')).toEqual({ httpTokens: 'optional', hopLimit: 2 });
    expect(parseBeforeSpec('hop=3, tokens=required, endpoint=enabled')).toEqual({
      httpTokens: 'required',
      hopLimit: 3,
      httpEndpoint: 'enabled',
    });
    for (const bad of ['tokens=optional', 'hop=2', 'tokens=maybe,hop=2', 'tokens=optional,hop=65', 'x=1'])
      expect(() => parseBeforeSpec(bad)).toThrow(RevertInputError);
  });

  it('selects remediated instance records once, in the right account, with a full before', () => {
    const before = { httpTokens: 'optional' as const, hopLimit: 2, httpEndpoint: 'enabled' as const };
    const tpl = rec('lt-0123456789abcdef0', 'remediated', { details: { sourceVersion: 1, madeDefault: true } });
    tpl.resource = { ...tpl.resource, type: 'launch-template' };
    const other = rec('i-3', 'remediated', { before });
    other.resource = { ...other.resource, account: '999999999999' };
    const { items, skipped } = selectReverts(
      [
        rec('i-1', 'remediated', { before }),
        rec('i-1', 'remediated', { before: { httpTokens: 'required', hopLimit: 2 } }),
        rec('i-2', 'would-remediate', { before }),
        rec('i-4', 'remediated', { before: { httpTokens: 'optional' } }),
        tpl,
        other,
      ],
      '111122223333',
    );
    expect(items).toEqual([expect.objectContaining({ instanceId: 'i-1', region: 'eu-west-1', restore: before })]);
    expect(skipped.map((s) => s.id)).toEqual(['i-1', 'i-4', 'lt-0123456789abcdef0', 'i-3']);
    expect(skipped.find((s) => s.id.startsWith('lt-'))!.reason).toMatch(/modify-launch-template .*--default-version 1/);
  });

  it('reads JSON Lines and names the bad line', () => {
    const good = JSON.stringify(rec('i-1', 'remediated'));
    expect(parseAuditInput(`${good}\n\n${good}\n`)).toHaveLength(2);
    expect(() => parseAuditInput(`${good}\n{oops`)).toThrow(/line 2: not JSON/);
    expect(() => parseAuditInput('{"schema":"other"}')).toThrow(/line 1: not an imds-guard.audit\/v1 record/);
  });
});

describe('CSV', () => {
  it('quotes commas, quotes and newlines', () => {
    const r = rec('i-1', 'failed', { reason: 'a, "b"\nc', error: { name: 'E', message: 'x' } });
    const csv = renderCsv({
      command: 'scan',
      exitCode: 1,
      result: {
        run: { runId: 'r', account: 'a', actor: 'x', startedAt: 't', source: 'cli', eventName: 'Scan' },
        mode: 'enforce',
        finishedAt: 't',
        regions: [{ region: 'eu-west-1', records: [r], identity: [], notes: [], calls: { describeInstances: 0 }, durationMs: 0 }],
      },
    });
    expect(csv).toContain('"a, ""b""\nc"');
    expect(csv.split('\r\n')).toHaveLength(3);
  });
});
