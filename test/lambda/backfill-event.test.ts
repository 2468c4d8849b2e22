// The backfill event schema: the sweep schedule's input is accepted, unknown fields are still rejected.
import { describe, expect, it } from 'vitest';
import { BackfillEventSchema } from '../../lib/lambda/backfill-event.js';

describe('BackfillEventSchema', () => {
  it("accepts the schedule's input", () => {
    const r = BackfillEventSchema.safeParse({ mode: 'enforce', sweep: true, regions: ['eu-west-1'] });
    expect(r.success && r.data).toEqual({ mode: 'enforce', sweep: true, regions: ['eu-west-1'] });
  });

  it('sweep must be a boolean', () => {
    expect(BackfillEventSchema.safeParse({ mode: 'enforce', sweep: 'yes' }).success).toBe(false);
  });

  it('still rejects unknown fields, and the old self-invocation child', () => {
    expect(BackfillEventSchema.safeParse({ mode: 'enforce', sweep: true, sweeps: true }).success).toBe(false);
    expect(BackfillEventSchema.safeParse({ mode: 'enforce', child: { runId: 'imds-guard-x', region: 'eu-west-1' } }).success).toBe(false);
  });

  it('accounts, org or ou: one of them, each well-formed', () => {
    expect(BackfillEventSchema.safeParse({ mode: 'scan', accounts: ['111111111111', '222222222222'] }).success).toBe(true);
    expect(BackfillEventSchema.safeParse({ mode: 'scan', org: true, concurrency: 20, toleratedFailures: 2 }).success).toBe(true);
    expect(BackfillEventSchema.safeParse({ mode: 'scan', ou: 'ou-ab12-cdef3456' }).success).toBe(true);
    expect(BackfillEventSchema.safeParse({ mode: 'scan', accounts: ['11111111111'] }).success).toBe(false);
    expect(BackfillEventSchema.safeParse({ mode: 'scan', org: true, ou: 'ou-ab12-cdef3456' }).success).toBe(false);
  });
});
