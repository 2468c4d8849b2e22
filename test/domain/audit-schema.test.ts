import { describe, expect, it } from 'vitest';
import {
  AUDIT_SCHEMA,
  buildRecord,
  OUTCOME_ORDER,
  OutcomeSchema,
  severityOf,
  worstOutcome,
  type AuditRecord,
} from '../../lib/domain/audit.js';
import { AuditRecordSchema } from '../../lib/domain/audit-schema.js';

const trigger = {
  source: 'backfill' as const,
  eventName: 'Backfill',
  eventId: 'run-1',
  eventTime: '2026-01-01T00:00:00Z',
  actor: 'me',
  region: 'eu-west-1',
  account: '111122223333',
};
const resource = {
  type: 'instance' as const,
  id: 'i-1',
  arn: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-1',
  region: 'eu-west-1',
  account: '111122223333',
  owner: 'team-a',
};

function record(over: Partial<AuditRecord> = {}): AuditRecord {
  return { ...buildRecord({ trigger, mode: 'enforce', outcome: 'remediated', resource, time: 't' }), ...over };
}

describe('AuditRecordSchema', () => {
  it('accepts what buildRecord produces, unchanged', () => {
    const r = record({ before: { httpTokens: 'optional', hopLimit: 2 }, after: { httpTokens: 'required', hopLimit: 1 }, notes: ['n'] });
    const parsed = AuditRecordSchema.safeParse(JSON.parse(JSON.stringify(r)));
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(r);
    expect(r.schema).toBe(AUDIT_SCHEMA);
  });

  it('rejects an unknown outcome, an empty owner, another schema version', () => {
    for (const bad of [{ outcome: 'fixed' }, { resource: { ...resource, owner: '' } }, { schema: 'imds-guard.audit/v2' }]) {
      expect(AuditRecordSchema.safeParse({ ...record(), ...bad }).success).toBe(false);
    }
  });

  it('drops fields it does not know instead of rejecting them (newer producers)', () => {
    const parsed = AuditRecordSchema.safeParse({ ...record(), future: 1, resource: { ...resource, zone: 'a' } });
    expect(parsed.success).toBe(true);
    expect(parsed.data).not.toHaveProperty('future');
    expect(parsed.data?.resource).not.toHaveProperty('zone');
  });

  it('defaults missing violations to none', () => {
    const { violations: _, ...rest } = record();
    expect(AuditRecordSchema.parse(rest).violations).toEqual([]);
  });
});

describe('outcomes', () => {
  it('OUTCOME_ORDER lists every outcome once, the schema accepts exactly those', () => {
    expect(new Set(OUTCOME_ORDER).size).toBe(OUTCOME_ORDER.length);
    expect(OutcomeSchema.options).toEqual([...OUTCOME_ORDER]);
  });

  it('severity never rises from one outcome to the next less urgent one', () => {
    const rank = { high: 3, medium: 2, low: 1, info: 0 };
    const ranks = OUTCOME_ORDER.map((o) => rank[severityOf(o)]);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
  });

  it('the worst outcome follows OUTCOME_ORDER', () => {
    expect(worstOutcome([record({ outcome: 'gone' }), record({ outcome: 'reported' })])).toBe('reported');
    expect(worstOutcome([])).toBe('compliant');
  });
});
