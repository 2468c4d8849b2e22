// One Region of a backfill: plan as a dry run (the report a scan prints), then, in enforce mode, apply only
// what the plan says would change, kind by kind from the registry, through the same functions the event
// handlers use. A scan therefore makes no mutating call by construction, and the plan carries what apply
// needs, so nothing is described twice. A run that asks first plans every kind, then applies (planRegion,
// applyRegion); one nobody confirms applies each kind as soon as its own plan is in (enforceRegion).
import pLimit from 'p-limit';
import { identityReadiness } from '../shell/identity-readiness.js';
import type { AuditRecord, ResourceType } from '../domain/audit.js';
import type { IdentityReadiness } from '../domain/identity.js';
import { kindOrder } from '../kinds/index.js';
import type { ApplyLimits, BackfillScope, RegionFacts, SectionApply, SectionPlan } from '../kinds/types.js';
import type { BackfillContext } from './context.js';
import type { Found, RegionDiscovery } from './discover.js';

export type Mode = 'enforce' | 'dry-run';

export interface RegionHooks {
  /** Called for every record as it is decided (progress bars, metrics). */
  record?: (r: AuditRecord) => void;
}

export interface RegionPlan extends RegionFacts {
  discovery: RegionDiscovery;
  /** Dry-run records for everything discovered. */
  records: AuditRecord[];
  /** Per kind: what apply needs for each resource that would change (apply describes none of them again). */
  sections: { found: Found; plan: SectionPlan<unknown> }[];
}

/** Identity readiness is a few EKS/IAM calls per cluster: a small pool is enough. */
const IDENTITY_CONCURRENCY = 4;

async function readiness(ctx: BackfillContext, cluster: string): Promise<IdentityReadiness> {
  // With the gate on, policyFor has fetched (and cached) readiness already: reuse it.
  const gated = await ctx.policyFor(cluster);
  const r = gated.details?.identity as IdentityReadiness | undefined;
  return r ?? identityReadiness(ctx.clients.eks, ctx.clients.iam, cluster);
}

/**
 * Identity readiness (IRSA, Pod Identity, add-ons) of each of the Region's clusters, for the report. Apart
 * from the plan: a kind's policy that needs it (the identity gate) fetches it itself, so no change waits for this.
 * @example
 * const identity = await regionIdentity(ctx, discovery.clusters);
 */
export function regionIdentity(ctx: BackfillContext, clusters: string[]): Promise<IdentityReadiness[]> {
  const pool = pLimit(IDENTITY_CONCURRENCY);
  return Promise.all(clusters.map((c) => pool(() => readiness(ctx, c))));
}

const withHooks = (s: BackfillScope, hooks: RegionHooks): BackfillScope => ({ ...s, ...(hooks.record ? { record: hooks.record } : {}) });

type PlannedSection = RegionPlan['sections'][number];

function assemble(d: RegionDiscovery, sections: PlannedSection[]): RegionPlan {
  const facts = Object.assign({}, ...sections.map((s) => s.plan.facts ?? {})) as RegionFacts;
  return {
    discovery: d,
    records: ordered(
      d,
      sections.flatMap((s) => s.plan.records),
    ),
    sections,
    ...facts,
  };
}

/** Plan every kind the discovery found (a dry run: nothing changes). */
export async function planRegion(d: RegionDiscovery, hooks: RegionHooks = {}): Promise<RegionPlan> {
  const scope = withHooks(d.scope, hooks);
  return assemble(d, await Promise.all(d.found.map(async (found) => ({ found, plan: await found.section.plan(found.targets, scope) }))));
}

/** Records arrive in completion order; reports read better by kind, then (where the kind says so) by resource ID. */
function ordered(d: RegionDiscovery, records: AuditRecord[]): AuditRecord[] {
  const byId = new Set(d.found.filter((f) => f.section.sortById).map((f) => f.kind.type));
  return [...records].sort(
    (a, b) =>
      kindOrder(a.resource.type) - kindOrder(b.resource.type) ||
      (byId.has(a.resource.type) ? (a.resource.id < b.resource.id ? -1 : a.resource.id > b.resource.id ? 1 : 0) : 0),
  );
}

export interface ApplyOptions extends ApplyLimits {
  /** Set: instance changes go onto the remediation queue (the sweep, and any backfill in the stack). */
  queue?: BackfillScope['queue'];
  onQueued?: BackfillScope['onQueued'];
}

export interface RegionApply {
  records: AuditRecord[];
  /** Set when the deadline stopped the run: every instance ID <= this was handled. */
  continuation?: SectionApply['continuation'];
}

const key = (r: AuditRecord) =>
  `${r.resource.type}\u0000${r.resource.type === 'nodegroup' ? `${r.resource.cluster}/` : ''}${r.resource.id}`;

function applyScope(d: RegionDiscovery, hooks: RegionHooks, o: ApplyOptions): BackfillScope {
  return {
    ...withHooks(d.scope, hooks),
    ...(o.queue ? { queue: o.queue } : {}),
    ...(o.onQueued ? { onQueued: o.onQueued } : {}),
  };
}

const limitsOf = ({ queue: _q, onQueued: _o, ...limits }: ApplyOptions): ApplyLimits => limits;

/**
 * Start each kind's apply as soon as its plan is in and the kinds it comes `after` have applied; a kind with
 * nothing ready applies nothing. Returns the applies by kind, in registry order.
 */
function startApplies(
  planned: { found: Found; plan: Promise<SectionPlan<unknown>> }[],
  scope: BackfillScope,
  limits: ApplyLimits,
): Promise<SectionApply | undefined>[] {
  const started = new Map<ResourceType, Promise<SectionApply | undefined>>();
  for (const { found, plan } of planned) {
    const apply = found.section.apply?.bind(found.section);
    const waitFor = (found.section.after ?? []).flatMap((t) => started.get(t) ?? []);
    started.set(
      found.kind.type,
      plan.then(async (p) => {
        if (!apply || p.ready.length === 0) return undefined;
        const earlier = (await Promise.all(waitFor)).flatMap((e) => e?.records ?? []);
        return apply(p.ready, scope, earlier, limits);
      }),
    );
  }
  return [...started.values()];
}

function applied(plan: RegionPlan, applies: (SectionApply | undefined)[]): RegionApply {
  const done = applies.filter((a): a is SectionApply => !!a);
  const continuation = done.find((a) => a.continuation)?.continuation;
  return {
    records: merge(
      plan,
      done.flatMap((a) => a.records),
      continuation?.afterInstanceId,
    ),
    ...(continuation ? { continuation } : {}),
  };
}

/** Apply each kind's ready list (after the kinds it waits for); everything else keeps its plan record. */
export async function applyRegion(plan: RegionPlan, hooks: RegionHooks = {}, o: ApplyOptions = {}): Promise<RegionApply> {
  const planned = plan.sections.map(({ found, plan: p }) => ({ found, plan: Promise.resolve(p) }));
  return applied(plan, await Promise.all(startApplies(planned, applyScope(plan.discovery, hooks, o), limitsOf(o))));
}

export interface EnforceHooks {
  /** The plan's (dry-run) records as they are decided. */
  plan?: RegionHooks;
  /** The changes' records as they are decided (some kinds apply while others still plan). */
  apply?: RegionHooks;
  /** Every kind is planned (or failed to): the plan of those that did. */
  planned?: (plan: RegionPlan) => void;
}

export interface RegionEnforce {
  /** The kinds that planned (all of them unless `error` is set). */
  plan: RegionPlan;
  /** What was applied, merged into the plan's records. */
  applied: RegionApply;
  /** The first plan or apply that failed; the records of every other kind are kept. */
  error?: unknown;
}

/**
 * Plan and apply with no barrier between kinds: each kind applies as soon as its own plan is in (and the kinds
 * it comes `after` have applied), so the instances of a Region start changing while its launch templates and
 * node groups are still being planned. For a run nobody confirms (the Lambda, `--yes`); a run that asks first
 * plans everything (planRegion), then applies (applyRegion).
 * @example
 * const { applied, error } = await enforceRegion(discovery, { apply: { record: bar.tick } }, { deadline });
 */
export async function enforceRegion(d: RegionDiscovery, hooks: EnforceHooks = {}, o: ApplyOptions = {}): Promise<RegionEnforce> {
  const scope = withHooks(d.scope, hooks.plan ?? {});
  const planned = d.found.map((found) => ({ found, plan: found.section.plan(found.targets, scope) }));
  const applies = startApplies(planned, applyScope(d, hooks.apply ?? {}, o), limitsOf(o));
  const plans = await Promise.allSettled(planned.map((p) => p.plan));
  const sections: PlannedSection[] = [];
  plans.forEach((r, i) => {
    if (r.status === 'fulfilled') sections.push({ found: (planned[i] as (typeof planned)[number]).found, plan: r.value });
  });
  const plan = assemble(d, sections);
  hooks.planned?.(plan);
  const results = await Promise.allSettled(applies);
  const failed = [...plans, ...results].find((r) => r.status === 'rejected');
  return {
    plan,
    applied: applied(
      plan,
      results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)),
    ),
    ...(failed ? { error: failed.reason } : {}),
  };
}

/** The plan's records with each applied resource's records in place of its plan record. */
function merge(plan: RegionPlan, fresh: AuditRecord[], cut: string | undefined): AuditRecord[] {
  const replaced = new Map<string, AuditRecord[]>();
  for (const r of fresh) replaced.set(key(r), [...(replaced.get(key(r)) ?? []), r]);
  const records: AuditRecord[] = [];
  const done = new Set<string>();
  for (const r of plan.records) {
    // Past the continuation point, instances belong to the next run.
    if (cut && r.resource.type === 'instance' && r.resource.id > cut) continue;
    const k = key(r);
    const now = replaced.get(k);
    if (!now) records.push(r);
    else if (!done.has(k)) {
      records.push(...now);
      done.add(k);
    }
  }
  return ordered(plan.discovery, records);
}
