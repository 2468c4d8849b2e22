// A backfill over (account x Region) units: units run in parallel, at most `unitConcurrency` at once (each
// account and Region has its own EC2 buckets), and within a unit the instance work runs through
// enforceInstances' p-limit pool behind the rate limiter. One account (no `accounts`) is the caller's.
import pLimit from 'p-limit';
import type { InstanceQuery } from '../kinds/instance/scan.js';
import type { RateLimiter, RateLimiterStats } from '../shell/rate-limit.js';
import type { Config } from '../shell/config.js';
import type { AuditRecord } from '../domain/audit.js';
import type { AccountDefaults, DefaultsPosture } from '../kinds/account-defaults/policy.js';
import type { IdentityReadiness } from '../domain/identity.js';
import { backfillContext, triggerFor, type BackfillContext, type RunInfo } from './context.js';
import { discoverRegion, INCLUDE_ALL, targetCount, type Include } from './discover.js';
import { applyRegion, planRegion, type ApplyOptions, type Mode, type RegionPlan } from './region.js';
import { errorOf } from '../domain/errors.js';

interface BackfillRequest {
  mode: Mode;
  regions: string[];
  /** Member accounts to run in (each through its member role); unset: the caller's own account. */
  accounts?: string[];
  /** Units (account x Region) in flight at once; default 32. */
  unitConcurrency?: number;
  /** Only these clusters (empty: all). */
  clusters: string[];
  query: InstanceQuery;
  include?: Include;
  /** Continue after this instance ID (a continuation run). */
  afterInstanceId?: string;
  /** Epoch ms by which the run must have stopped starting work (Lambda). */
  deadline?: number;
  chunkSize?: number;
}

export interface RegionResult {
  region: string;
  /** The member account the unit ran in (unset: the caller's own account). */
  account?: string;
  records: AuditRecord[];
  identity: IdentityReadiness[];
  accountDefaults?: { defaults: AccountDefaults; posture: DefaultsPosture };
  notes: string[];
  calls: { describeInstances: number };
  continuation?: { afterInstanceId: string; remaining: number };
  /** The Region could not be scanned (credentials, opt-in, API failure after retries). */
  error?: { name: string; message: string };
  durationMs: number;
}

export interface BackfillResult {
  run: RunInfo;
  mode: Mode;
  regions: RegionResult[];
  /** Enforce was planned but the operator said no: nothing was changed. */
  declined?: boolean;
  finishedAt: string;
  rateLimit?: RateLimiterStats;
}

type Phase = 'discover' | 'plan' | 'apply';

/** One unit of work: a Region, in a member account or (unset) the caller's own. */
export interface Unit {
  region: string;
  account?: string;
}

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

export interface RunHooks {
  /** A unit (its unitLabel) entered a phase; `total` is the number of records the phase will emit (when known). */
  phase?: (region: string, phase: Phase, total?: number) => void;
  record?: (region: string, r: AuditRecord) => void;
  /** A Region finished (or failed). */
  done?: (region: string, result: RegionResult) => void;
}

export interface PlanOverview {
  regions: { region: string; changes: Record<string, number> }[];
  total: number;
  /** Each resource that would change, in plan order. */
  resources: { region: string; type: string; id: string; name?: string; cluster?: string }[];
}

export interface BackfillInput {
  config: Config;
  request: BackfillRequest;
  run: RunInfo;
  limiter?: RateLimiter;
  hooks?: RunHooks;
  /**
   * Asked once, after every Region is planned and before anything changes (enforce mode only).
   * Not set: apply straight away (the Lambda, `--yes`).
   */
  confirm?: (plan: PlanOverview) => Promise<boolean>;
  /** Set: instance changes go onto the remediation queue (the stack's backfill and sweep). */
  queue?: ApplyOptions['queue'];
  /** Called for every instance change queued, with the instance's launch time when known. */
  onQueued?: (region: string, ...queued: Parameters<NonNullable<ApplyOptions['onQueued']>>) => void;
  /** Injected in tests; default backfillContext(config, region, limiter, account). */
  context?: (region: string, account?: string) => BackfillContext;
}

function overview(plans: Planned[]): PlanOverview {
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

interface Planned {
  unit: Unit;
  region: string;
  started: number;
  ctx?: BackfillContext;
  plan?: RegionPlan;
  error?: { name: string; message: string };
}

async function planOne(input: BackfillInput, unit: Unit): Promise<Planned> {
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
    });
    hooks.phase?.(label, 'plan', targetCount(d));
    const plan = await planRegion(ctx, d, include, { record: (r) => hooks.record?.(label, r) });
    return { unit, region, started, ctx, plan };
  } catch (err) {
    return { unit, region, started, error: errorOf(err) };
  }
}

function finish(input: BackfillInput, p: Planned, records: AuditRecord[], extra: Partial<RegionResult> = {}): RegionResult {
  const result: RegionResult = {
    region: p.region,
    ...(p.unit.account ? { account: p.unit.account } : {}),
    records,
    identity: p.plan?.identity ?? [],
    ...(p.plan?.accountDefaults ? { accountDefaults: p.plan.accountDefaults } : {}),
    notes: p.plan?.discovery.notes ?? [],
    calls: p.plan?.discovery.calls ?? { describeInstances: 0 },
    ...(p.error ? { error: p.error } : {}),
    ...extra,
    durationMs: Math.round(performance.now() - p.started),
  };
  input.hooks?.done?.(unitLabel(p.unit), result);
  return result;
}

async function applyOne(input: BackfillInput, p: Planned): Promise<RegionResult> {
  const { request: req, hooks = {} } = input;
  if (!p.plan || !p.ctx || req.mode === 'dry-run') return finish(input, p, p.plan?.records ?? []);
  const would = p.plan.records.filter((r) => r.outcome === 'would-remediate').length;
  const label = unitLabel(p.unit);
  try {
    hooks.phase?.(label, 'apply', would);
    const applied = await applyRegion(
      p.plan,
      { record: (r) => hooks.record?.(label, r) },
      {
        ...(req.deadline !== undefined ? { deadline: req.deadline } : {}),
        ...(req.chunkSize !== undefined ? { chunkSize: req.chunkSize } : {}),
        ...(input.queue ? { queue: input.queue } : {}),
        ...(input.onQueued ? { onQueued: (item, launchTime) => input.onQueued?.(p.region, item, launchTime) } : {}),
      },
    );
    return finish(input, p, applied.records, applied.continuation ? { continuation: applied.continuation } : {});
  } catch (err) {
    // An apply that failed (an enqueue SQS refused, say) ends the Region in an error: a failed summary, never silence.
    return finish(input, p, p.plan.records, { error: errorOf(err) });
  }
}

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
    const planned = await Promise.all(units.map((u) => pool(() => planOne(input, u))));
    const o = overview(planned);
    if (o.total > 0 && !(await input.confirm(o)))
      return done(
        planned.map((p) => finish(input, p, p.plan?.records ?? [])),
        true,
      );
    return done(await Promise.all(planned.map((p) => pool(() => applyOne(input, p)))));
  }
  // No barrier: each unit goes from plan to apply on its own.
  return done(await Promise.all(units.map((u) => pool(async () => applyOne(input, await planOne(input, u))))));
}

/** Every record of a result, Regions in order. */
export function allRecords(result: Pick<BackfillResult, 'regions'>): AuditRecord[] {
  return result.regions.flatMap((r) => r.records);
}
