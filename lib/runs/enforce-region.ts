// A Region with no barrier between its kinds (a run nobody confirms): each kind applies as soon as its own plan
// is in, and an early discovery's first page is changed while the rest is listed. The apply machinery (waves,
// `after` ordering, merging records, the continuation) is region.ts's, shared with the barrier path.
import type { AuditRecord } from '../domain/audit.js';
import type { BackfillScope, Discovered } from '../kinds/types.js';
import { targetCount, type Found, type RegionDiscovery } from './discover.js';
import {
  applied,
  applyScope,
  assemble,
  limitsOf,
  startApplies,
  withHooks,
  type ApplyOptions,
  type PlannedSection,
  type RegionApply,
  type RegionHooks,
  type RegionPlan,
  type Wave,
} from './region.js';

export interface EnforceHooks {
  /** The plan's (dry-run) records as they are decided. */
  plan?: RegionHooks;
  /** The changes' records as they are decided (some kinds apply while others still plan). */
  apply?: RegionHooks;
  /** Every kind is discovered, its early part's rest included: how many targets in all. */
  discovered?: (targets: number) => void;
  /** Every kind is planned (or failed to): the plan of those that did. */
  planned?: (plan: RegionPlan) => void;
}

export interface RegionEnforce {
  /** The discovery with every early part's rest added (targets, notes, calls). */
  discovery: RegionDiscovery;
  /** The kinds that planned (all of them unless `error` is set). */
  plan: RegionPlan;
  /** What was applied, merged into the plan's records. */
  applied: RegionApply;
  /** The first discovery, plan or apply that failed; the records of every other part are kept. */
  error?: unknown;
}

/** A kind's waves: what it found, then (an early discovery) the rest, listed once `listRest` resolves. */
interface KindWaves {
  waves: Wave[];
  /** The rest's discovery (undefined: none), for the report's notes and call counts. */
  rest: Promise<Discovered<unknown> | undefined>;
  /** Lets the rest be listed (after the first part's changes). */
  listRest: () => void;
}

function wavesOf(found: Found, scope: BackfillScope): KindWaves {
  const { rest, ...first } = found;
  const { kind, section } = found;
  const head: Wave = { found: Promise.resolve(first), plan: section.plan(first.targets, scope), kind, section, last: !rest };
  if (!rest) return { waves: [head], rest: Promise.resolve(undefined), listRest: () => undefined };
  let listRest!: () => void;
  const listed = new Promise<void>((r) => {
    listRest = r;
  }).then(rest);
  const tail = listed.then((r): Found => ({ ...first, targets: r.targets }));
  const plan = tail.then((f) => section.plan(f.targets, scope));
  // Each is read later (allSettled); meanwhile a failure must not count as unhandled.
  for (const p of [listed, tail, plan]) p.catch(() => undefined);
  return { waves: [head, { found: tail, plan, kind, section, last: true }], rest: listed, listRest };
}

async function fullDiscovery(d: RegionDiscovery, kinds: KindWaves[]): Promise<RegionDiscovery> {
  const rests = await Promise.allSettled(kinds.map((k) => k.rest));
  const more = rests.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  return {
    ...d,
    found: d.found.map(({ rest: _r, ...f }, i) => {
      const r = rests[i];
      return r?.status === 'fulfilled' && r.value ? { ...f, targets: [...f.targets, ...r.value.targets] } : f;
    }),
    notes: [...d.notes, ...more.flatMap((m) => m.notes ?? [])],
    calls: { describeInstances: d.calls.describeInstances + more.reduce((n, m) => n + (m.describeCalls ?? 0), 0) },
  };
}

/**
 * Plan and apply with no barrier between kinds: each kind applies as soon as its own plan is in (and the kinds
 * it comes `after` have applied), so the instances of a Region start changing while its launch templates and
 * node groups are still being planned. An early discovery's first part is planned and applied first, then its
 * rest is listed, planned and applied. For a run nobody confirms (the Lambda, `--yes`); a run that asks first plans
 * everything (planRegion), then applies (applyRegion).
 * @example
 * const { applied, error } = await enforceRegion(discovery, { apply: { record: bar.tick } }, { deadline });
 */
export async function enforceRegion(d: RegionDiscovery, hooks: EnforceHooks = {}, o: ApplyOptions = {}): Promise<RegionEnforce> {
  const scope = withHooks(d.scope, hooks.plan ?? {});
  const kinds = d.found.map((f) => wavesOf(f, scope));
  const waves = kinds.flatMap((k) => k.waves);
  const applies = startApplies(waves, applyScope(d, hooks.apply ?? {}, o), limitsOf(o));
  // A kind's rest is listed once its first part is changed (or failed to be): the big pages' parsing stays out
  // of the way of the first calls, whose answers start the unit's refill clock. A kind with nothing first, or
  // one that waits for other kinds (whose applies may wait for its plans), lists its rest at once.
  let at = 0;
  d.found.forEach((f, i) => {
    const k = kinds[i] as KindWaves;
    if (f.targets.length === 0 || f.section.after?.length) k.listRest();
    else (applies[at] as Promise<unknown>).then(k.listRest, k.listRest);
    at += k.waves.length;
  });
  const discovery = await fullDiscovery(d, kinds);
  hooks.discovered?.(targetCount(discovery));
  const found = await Promise.allSettled(waves.map((w) => w.found));
  const plans = await Promise.allSettled(waves.map((w) => w.plan));
  const sections: PlannedSection[] = [];
  const early: AuditRecord[] = [];
  plans.forEach((r, i) => {
    const f = found[i];
    if (r.status !== 'fulfilled' || f?.status !== 'fulfilled') return;
    sections.push({ found: f.value, plan: r.value });
    if (!waves[i]?.last) early.push(...r.value.records);
  });
  const plan = assemble(discovery, sections);
  hooks.planned?.(plan);
  const results = await Promise.allSettled(applies);
  const failed = [...found, ...plans, ...results].find((r) => r.status === 'rejected');
  return {
    discovery,
    plan,
    applied: applied(
      plan,
      results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)),
      early,
    ),
    ...(failed ? { error: failed.reason } : {}),
  };
}
