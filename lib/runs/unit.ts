// One (account x Region) unit of a backfill run: discover it, then either plan and apply behind the run's
// confirmation (applyOne) or, when nobody confirms, change each kind as soon as its plan is in (enforceOne).
// Every path ends in finish(): one RegionResult, with an error rather than silence when something failed.
import type { AuditRecord } from '../domain/audit.js';
import type { IdentityReadiness } from '../domain/identity.js';
import { errorOf } from '../domain/errors.js';
import { backfillContext, triggerFor, type BackfillContext } from './context.js';
import { discoverRegion, INCLUDE_ALL, targetCount, type RegionDiscovery } from './discover.js';
import { enforceRegion } from './enforce-region.js';
import { applyRegion, planRegion, regionIdentity, type ApplyOptions, type RegionPlan } from './region.js';
import type { BackfillInput, PlanOverview, RegionResult, Unit } from './types.js';

/**
 * The key hooks and progress use for a unit: the Region alone in the one-account case.
 * @example
 * unitLabel({ region: 'eu-west-1', account: '111111111111' }); // '111111111111/eu-west-1'
 */
export const unitLabel = (u: Unit): string => (u.account ? `${u.account}/${u.region}` : u.region);

/**
 * Every (account x Region) unit of a request, accounts outermost.
 * @example
 * unitsOf({ regions: ['a-1', 'b-1'], accounts: ['1', '2'] }).length; // 4
 */
export function unitsOf(req: { regions: string[]; accounts?: string[] }): Unit[] {
  if (!req.accounts) return req.regions.map((region) => ({ region }));
  return req.accounts.flatMap((account) => req.regions.map((region) => ({ region, account })));
}

export function overview(plans: Planned[]): PlanOverview {
  const regions = plans.map(({ unit, plan }) => {
    const changes: Record<string, number> = {};
    for (const r of plan?.records ?? [])
      if (r.outcome === 'would-remediate') changes[r.resource.type] = (changes[r.resource.type] ?? 0) + 1;
    return { region: unitLabel(unit), changes };
  });
  const resources = plans.flatMap(({ plan }) =>
    (plan?.records ?? [])
      .filter((r) => r.outcome === 'would-remediate')
      .map(({ resource: { region, type, id, name, cluster } }) => ({
        region,
        type,
        id,
        ...(name ? { name } : {}),
        ...(cluster ? { cluster } : {}),
      })),
  );
  return { regions, total: regions.reduce((n, r) => n + Object.values(r.changes).reduce((a, b) => a + b, 0), 0), resources };
}
export interface Planned {
  unit: Unit;
  region: string;
  started: number;
  ctx?: BackfillContext;
  discovery?: RegionDiscovery;
  /** Set once every kind is planned (planned: the confirm barrier; or after enforceRegion). */
  plan?: RegionPlan;
  /** Identity readiness for the report, fetched beside the plan and the changes (never before them). */
  identity?: Promise<IdentityReadiness[]>;
  error?: { name: string; message: string };
}

/** Discover the unit; `plan` also plans it (a dry run, or the barrier before a confirmation). */
export async function discoverOne(input: BackfillInput, unit: Unit, plan: boolean): Promise<Planned> {
  const { config, request: req, run, hooks = {} } = input;
  const { region, account } = unit;
  const label = unitLabel(unit);
  const include = req.include ?? INCLUDE_ALL;
  const started = performance.now();
  try {
    const open =
      input.context ??
      ((r: string, a?: string) => backfillContext(config, r, input.limiter, { account: a, home: run.account, eventId: run.runId }));
    const ctx = open(region, account);
    hooks.phase?.(label, 'discover');
    const d = await discoverRegion(ctx, triggerFor(run, region, account), {
      clusters: req.clusters,
      query: req.query,
      include,
      ...(req.afterInstanceId ? { afterInstanceId: req.afterInstanceId } : {}),
      ...(req.handled?.length ? { handled: req.handled } : {}),
      // Without a plan step first, a section may hand over a first part early (enforceOne changes it at once).
      ...(plan ? {} : { early: true }),
    });
    const identity = include.identity ? regionIdentity(ctx, d.clusters) : Promise.resolve([]);
    // Read at the end; a failure then fails the unit, but must not go unhandled while the changes run.
    identity.catch(() => undefined);
    // An early discovery announces its total once its rest is in (enforceOne).
    if (plan) hooks.phase?.(label, 'plan', targetCount(d));
    const p: Planned = { unit, region, started, ctx, discovery: d, identity };
    if (plan) p.plan = await planRegion(d, { record: (r) => hooks.record?.(label, r) });
    return p;
  } catch (err) {
    return { unit, region, started, error: errorOf(err) };
  }
}

export async function finish(
  input: BackfillInput,
  p: Planned,
  records: AuditRecord[],
  extra: Partial<RegionResult> = {},
): Promise<RegionResult> {
  let identity: IdentityReadiness[] = [];
  let error = p.error ?? extra.error;
  try {
    identity = (await p.identity) ?? [];
  } catch (err) {
    error ??= errorOf(err);
  }
  const result: RegionResult = {
    region: p.region,
    ...(p.unit.account ? { account: p.unit.account } : {}),
    records,
    identity,
    ...(p.plan?.accountDefaults ? { accountDefaults: p.plan.accountDefaults } : {}),
    notes: p.discovery?.notes ?? [],
    calls: p.discovery?.calls ?? { describeInstances: 0 },
    ...extra,
    ...(error ? { error } : {}),
    durationMs: Math.round(performance.now() - p.started),
  };
  input.hooks?.done?.(unitLabel(p.unit), result);
  return result;
}

function applyOptions(input: BackfillInput, p: Planned): ApplyOptions {
  const { request: req } = input;
  return {
    ...(req.deadline !== undefined ? { deadline: req.deadline } : {}),
    ...(req.chunkSize !== undefined ? { chunkSize: req.chunkSize } : {}),
    ...(input.queue ? { queue: input.queue } : {}),
    ...(input.onQueued ? { onQueued: (item, launchTime) => input.onQueued?.(p.region, item, launchTime) } : {}),
  };
}

const wouldChange = (plan: RegionPlan) => plan.records.filter((r) => r.outcome === 'would-remediate').length;

/** After the confirm barrier: apply what every kind planned. */
export async function applyOne(input: BackfillInput, p: Planned): Promise<RegionResult> {
  const { hooks = {} } = input;
  if (!p.plan || input.request.mode === 'dry-run') return finish(input, p, p.plan?.records ?? []);
  const label = unitLabel(p.unit);
  try {
    hooks.phase?.(label, 'apply', wouldChange(p.plan));
    const applied = await applyRegion(p.plan, { record: (r) => hooks.record?.(label, r) }, applyOptions(input, p));
    return finish(input, p, applied.records, applied.continuation ? { continuation: applied.continuation } : {});
  } catch (err) {
    // An apply that failed (an enqueue SQS refused, say) ends the Region in an error: a failed summary, never silence.
    return finish(input, p, p.plan.records, { error: errorOf(err) });
  }
}

/** Hooks see a unit's phases in order: a record decided before its phase was announced waits for it. */
function phased(label: string, hooks: NonNullable<BackfillInput['hooks']>) {
  const held: Record<'plan' | 'apply', AuditRecord[] | undefined> = { plan: [], apply: [] };
  return {
    hold: (phase: 'plan' | 'apply') => (r: AuditRecord) => {
      const h = held[phase];
      if (h) h.push(r);
      else hooks.record?.(label, r);
    },
    open: (phase: 'plan' | 'apply', total: number) => {
      hooks.phase?.(label, phase, total);
      for (const r of held[phase] ?? []) hooks.record?.(label, r);
      held[phase] = undefined;
    },
  };
}

/**
 * No barrier: each kind of the unit applies as soon as its own plan is in, an early first page while the rest
 * is listed.
 */
export async function enforceOne(input: BackfillInput, p: Planned): Promise<RegionResult> {
  if (!p.discovery) return finish(input, p, []);
  const phases = phased(unitLabel(p.unit), input.hooks ?? {});
  const r = await enforceRegion(
    p.discovery,
    {
      plan: { record: phases.hold('plan') },
      apply: { record: phases.hold('apply') },
      discovered: (total) => phases.open('plan', total),
      planned: (regionPlan) => phases.open('apply', wouldChange(regionPlan)),
    },
    applyOptions(input, p),
  );
  p.discovery = r.discovery;
  p.plan = r.plan;
  return finish(input, p, r.applied.records, {
    ...(r.applied.continuation ? { continuation: r.applied.continuation } : {}),
    // A kind that failed ends the Region in an error; what the others did is kept (never silence, nothing lost).
    ...(r.error !== undefined ? { error: errorOf(r.error) } : {}),
  });
}
