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

  it('still rejects unknown fields, at the top and in a child', () => {
    expect(BackfillEventSchema.safeParse({ mode: 'enforce', sweep: true, sweeps: true }).success).toBe(false);
    const child = {
      runId: 'imds-guard-x',
      region: 'eu-west-1',
      link: 0,
      account: '111122223333',
      actor: 'a',
      startedAt: 't',
      queued: { queued: 1, missedByEvents: 1, inFlight: 0 },
    };
    expect(BackfillEventSchema.safeParse({ mode: 'enforce', child }).success).toBe(true);
    expect(BackfillEventSchema.safeParse({ mode: 'enforce', child: { ...child, extra: 1 } }).success).toBe(false);
    expect(BackfillEventSchema.safeParse({ mode: 'enforce', child: { ...child, queued: { queued: 1 } } }).success).toBe(false);
  });
});
