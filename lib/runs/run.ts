// A backfill over (account x Region) units: units run in parallel, at most `unitConcurrency` at once (each
// account and Region has its own EC2 buckets), and within a unit the instance work runs through
// enforceInstances' p-limit pool behind the rate limiter. One account (no `accounts`) is the caller's.
// A unit's own steps are in ./unit.ts, the types in ./types.ts.
import pLimit from 'p-limit';
import type { AuditRecord } from '../domain/audit.js';
import type { BackfillInput, BackfillResult, RegionResult } from './types.js';
import { applyOne, discoverOne, enforceOne, finish, overview, unitsOf } from './unit.js';

export type { BackfillInput, BackfillResult, PlanOverview, RegionResult, RunHooks, Unit } from './types.js';
export { unitLabel, unitsOf } from './unit.js';

export async function runBackfill(input: BackfillInput): Promise<BackfillResult> {
  const { request: req, run } = input;
  const done = (regions: RegionResult[], declined = false): BackfillResult => ({
    run,
    mode: req.mode,
    regions,
    ...(declined ? { declined } : {}),
    finishedAt: new Date().toISOString(),
    ...(input.limiter ? { rateLimit: input.limiter.stats() } : {}),
  });

  const units = unitsOf(req);
  const pool = pLimit(req.unitConcurrency ?? 32);
  if (req.mode === 'enforce' && input.confirm) {
    // Barrier: the operator sees the whole plan before the first change.
    const planned = await Promise.all(units.map((u) => pool(() => discoverOne(input, u, true))));
    const o = overview(planned);
    if (o.total > 0 && !(await input.confirm(o)))
      return done(await Promise.all(planned.map((p) => finish(input, p, p.plan?.records ?? []))), true);
    return done(await Promise.all(planned.map((p) => pool(() => applyOne(input, p)))));
  }
  // No barrier: each unit goes from discovery to changes on its own; a dry run plans and stops.
  if (req.mode === 'dry-run')
    return done(await Promise.all(units.map((u) => pool(async () => applyOne(input, await discoverOne(input, u, true))))));
  return done(await Promise.all(units.map((u) => pool(async () => enforceOne(input, await discoverOne(input, u, false))))));
}

/** Every record of a result, Regions in order. */
export function allRecords(result: Pick<BackfillResult, 'regions'>): AuditRecord[] {
  return result.regions.flatMap((r) => r.records);
}
