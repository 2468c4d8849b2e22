// One Region of a backfill: plan everything as a dry run (the report a scan prints), then, in enforce mode,
// apply only what the plan says would change, kind by kind from the registry, through the same functions
// the event handlers use. A scan therefore makes no mutating call by construction, and the plan carries
// what apply needs, so nothing is described twice.
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
  identity: IdentityReadiness[];
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

const withHooks = (s: BackfillScope, hooks: RegionHooks): BackfillScope => ({ ...s, ...(hooks.record ? { record: hooks.record } : {}) });

export async function planRegion(
  ctx: BackfillContext,
  d: RegionDiscovery,
  include: { identity?: boolean },
  hooks: RegionHooks = {},
): Promise<RegionPlan> {
  const scope = withHooks(d.scope, hooks);
  const pool = pLimit(IDENTITY_CONCURRENCY);
  const identityP = include.identity ? Promise.all(d.clusters.map((c) => pool(() => readiness(ctx, c)))) : Promise.resolve([]);
  const plansP = Promise.all(d.found.map(async (found) => ({ found, plan: await found.section.plan(found.targets, scope) })));
  const [identity, sections] = await Promise.all([identityP, plansP]);
  const facts = Object.assign({}, ...sections.map((s) => s.plan.facts ?? {})) as RegionFacts;
  return {
    discovery: d,
    records: ordered(
      d,
      sections.flatMap((s) => s.plan.records),
    ),
    identity,
    sections,
    ...facts,
  };
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

/** Apply each kind's ready list (after the kinds it waits for); everything else keeps its plan record. */
export async function applyRegion(plan: RegionPlan, hooks: RegionHooks = {}, o: ApplyOptions = {}): Promise<RegionApply> {
  const { queue, onQueued, ...limits } = o;
  const scope: BackfillScope = {
    ...withHooks(plan.discovery.scope, hooks),
    ...(queue ? { queue } : {}),
    ...(onQueued ? { onQueued } : {}),
  };
  const started = new Map<ResourceType, Promise<SectionApply>>();
  for (const { found, plan: p } of plan.sections) {
    const apply = found.section.apply?.bind(found.section);
    if (!apply || p.ready.length === 0) continue;
    const waitFor = (found.section.after ?? []).flatMap((t) => started.get(t) ?? []);
    const run = async () =>
      apply(
        p.ready,
        scope,
        (await Promise.all(waitFor)).flatMap((e) => e.records),
        limits,
      );
    started.set(found.kind.type, run());
  }
  const applied = await Promise.all(started.values());
  const continuation = applied.find((a) => a.continuation)?.continuation;
  return {
    records: merge(
      plan,
      applied.flatMap((a) => a.records),
      continuation?.afterInstanceId,
    ),
    ...(continuation ? { continuation } : {}),
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
