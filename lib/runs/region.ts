// One Region of a backfill: plan as a dry run (the report a scan prints), then, in enforce mode, apply only
// what the plan says would change, kind by kind from the registry, through the same functions the event
// handlers use. A scan therefore makes no mutating call by construction, and the plan carries what apply
// needs, so nothing is described twice. A run that asks first plans every kind, then applies (planRegion,
// applyRegion); one nobody confirms applies each kind as soon as its own plan is in (./enforce-region.ts).
import pLimit from 'p-limit';
import { identityReadiness } from '../shell/identity-readiness.js';
import type { AuditRecord, ResourceType } from '../domain/audit.js';
import type { IdentityReadiness } from '../domain/identity.js';
import { kindOrder } from '../kinds/index.js';
import type { ApplyLimits, BackfillScope, Continuation, RegionFacts, SectionApply, SectionPlan } from '../kinds/types.js';
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

export const withHooks = (s: BackfillScope, hooks: RegionHooks): BackfillScope => ({
  ...s,
  ...(hooks.record ? { record: hooks.record } : {}),
});

export type PlannedSection = RegionPlan['sections'][number];

export function assemble(d: RegionDiscovery, sections: PlannedSection[]): RegionPlan {
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

export function applyScope(d: RegionDiscovery, hooks: RegionHooks, o: ApplyOptions): BackfillScope {
  return {
    ...withHooks(d.scope, hooks),
    ...(o.queue ? { queue: o.queue } : {}),
    ...(o.onQueued ? { onQueued: o.onQueued } : {}),
  };
}

export const limitsOf = ({ queue: _q, onQueued: _o, ...limits }: ApplyOptions): ApplyLimits => limits;

/** A kind's part of a Region, or (an early discovery) one part of it: planned, then applied. */
export interface Wave {
  found: Promise<Found>;
  plan: Promise<SectionPlan<unknown>>;
  kind: Found['kind'];
  section: Found['section'];
  /** Only the last part of a kind may stop at the deadline (a continuation starts after it). */
  last: boolean;
}

/**
 * Start each wave's apply as soon as its plan is in, the earlier waves of its kind have applied, and so have
 * the kinds it comes `after`; a wave with nothing ready applies nothing. A kind that others come `after` (launch
 * templates, for node groups) also waits for their plans, which read its resources as they were before any change.
 * Returns the applies, in wave order.
 */
export function startApplies(waves: Wave[], scope: BackfillScope, limits: ApplyLimits): Promise<SectionApply | undefined>[] {
  const started = new Map<ResourceType, Promise<SectionApply | undefined>[]>();
  const readers = (t: ResourceType) => waves.filter((w) => w.section.after?.includes(t)).map((w) => w.plan);
  const { deadline: _d, ...unbounded } = limits;
  return waves.map((w) => {
    const { section } = w;
    const apply = section.apply?.bind(section);
    const waitFor = [...(started.get(w.kind.type) ?? []), ...(section.after ?? []).flatMap((t) => started.get(t) ?? [])];
    const earlierOfKind = started.get(w.kind.type)?.length ?? 0;
    const read = readers(w.kind.type);
    const run = w.plan.then(async (p) => {
      const before = await Promise.all(waitFor);
      // A reader's plan that failed does not hold this kind back.
      await Promise.allSettled(read);
      if (!apply || p.ready.length === 0) return undefined;
      const earlier = before.slice(earlierOfKind).flatMap((e) => e?.records ?? []);
      return apply(p.ready, scope, earlier, w.last ? limits : unbounded);
    });
    // Read later (allSettled); meanwhile a failure must not count as unhandled.
    run.catch(() => undefined);
    started.set(w.kind.type, [...(started.get(w.kind.type) ?? []), run]);
    return run;
  });
}

/** `early`: the records of every wave but a kind's last (an early first page), all handled in full. */
export function applied(plan: RegionPlan, applies: (SectionApply | undefined)[], early: AuditRecord[] = []): RegionApply {
  const done = applies.filter((a): a is SectionApply => !!a);
  const cut = done.find((a) => a.continuation)?.continuation;
  const fresh = done.flatMap((a) => a.records);
  // An early first page past the cut was handled too: the next link must not take it again.
  const handled = cut
    ? [...new Set(early.filter((r) => r.resource.type === 'instance' && r.resource.id > cut.afterInstanceId).map((r) => r.resource.id))]
    : [];
  const continuation = cut && handled.length ? { ...cut, handled: [...(cut.handled ?? []), ...handled] } : cut;
  return {
    records: merge(plan, fresh, continuation),
    ...(continuation ? { continuation } : {}),
  };
}

/** Apply each kind's ready list (after the kinds it waits for); everything else keeps its plan record. */
export async function applyRegion(plan: RegionPlan, hooks: RegionHooks = {}, o: ApplyOptions = {}): Promise<RegionApply> {
  const waves = plan.sections.map(({ found, plan: p }) => ({
    found: Promise.resolve(found),
    plan: Promise.resolve(p),
    kind: found.kind,
    section: found.section,
    last: true,
  }));
  return applied(plan, await Promise.all(startApplies(waves, applyScope(plan.discovery, hooks, o), limitsOf(o))));
}

/** The plan's records with each applied resource's records in place of its plan record. */
function merge(plan: RegionPlan, fresh: AuditRecord[], cut: Continuation | undefined): AuditRecord[] {
  const replaced = new Map<string, AuditRecord[]>();
  for (const r of fresh) replaced.set(key(r), [...(replaced.get(key(r)) ?? []), r]);
  const records: AuditRecord[] = [];
  const done = new Set<string>();
  const handled = new Set(cut?.handled);
  for (const r of plan.records) {
    // Past the continuation point, instances belong to the next run (unless this one handled them already).
    if (cut && r.resource.type === 'instance' && r.resource.id > cut.afterInstanceId && !handled.has(r.resource.id)) continue;
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
