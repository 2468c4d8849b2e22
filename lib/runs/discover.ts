// Discovery for one Region: what a backfill looks at, kind by kind from the registry. Only Describe/List calls.
import { listClusters } from '../shell/eks.js';
import type { Trigger } from '../domain/cloudtrail.js';
import { KINDS } from '../kinds/index.js';
import type { InstanceQuery } from '../kinds/instance/scan.js';
import type { BackfillScope, BackfillSection, Discovered, RegisteredKind } from '../kinds/types.js';
import type { BackfillContext } from './context.js';

/** Which sections run (by their `include` name: instances, templates, nodegroups, accountDefaults) and `identity`. */
export type Include = Readonly<Record<string, boolean>>;

export const INCLUDE_ALL: Include = Object.fromEntries([
  ...KINDS.flatMap((k) => (k.backfill ? [[k.backfill.include, true] as const] : [])),
  ['identity', true] as const,
]);
/** A continuation link: the instances after the last one handled, nothing else. */
export const INSTANCES_ONLY: Include = { instances: true };

export interface DiscoverOptions {
  /** Only these clusters (empty: all). */
  clusters: string[];
  query: InstanceQuery;
  include: Include;
  /** Continue after this instance ID (IDs are handled in sorted order). */
  afterInstanceId?: string;
  /** IDs after `afterInstanceId` that the previous link handled already. */
  handled?: string[];
  /** Let sections hand over a first part early (BackfillScope.early): a run nobody confirms. */
  early?: boolean;
}

/** What one kind's section found. */
export interface Found {
  kind: RegisteredKind;
  section: BackfillSection;
  targets: unknown[];
  /** An early discovery's rest (only with `early`): listed, planned and applied after `targets` are changed. */
  rest?: () => Promise<Discovered<unknown>>;
}

export interface RegionDiscovery {
  region: string;
  /** The Region as each section sees it (plan and apply add their hooks). */
  scope: BackfillScope;
  /** Per kind, in registry order. */
  found: Found[];
  /** EKS clusters in the Region (after the cluster filter). */
  clusters: string[];
  notes: string[];
  calls: { describeInstances: number };
}

/** Targets found over every kind. */
export const targetCount = (d: RegionDiscovery): number => d.found.reduce((n, f) => n + f.targets.length, 0);

export async function discoverRegion(ctx: BackfillContext, trigger: Trigger, o: DiscoverOptions): Promise<RegionDiscovery> {
  const sections = KINDS.flatMap((kind) => (kind.backfill && o.include[kind.backfill.include] ? [{ kind, section: kind.backfill }] : []));
  const needClusters = !!o.include.identity || sections.some((s) => s.section.needsClusters);
  const base: BackfillScope = {
    config: ctx.config,
    ctx,
    ...(ctx.limiter ? { limiter: ctx.limiter } : {}),
    trigger,
    clusters: o.clusters,
    regionClusters: [],
    query: o.query,
    ...(o.afterInstanceId ? { afterInstanceId: o.afterInstanceId } : {}),
    ...(o.handled?.length ? { handled: new Set(o.handled) } : {}),
    ...(o.early ? { early: true } : {}),
  };
  // ListClusters runs beside the sections that do not need its answer (instances, account defaults): an
  // instance scan never waits for EKS.
  const listed = needClusters ? listClusters(ctx.clients.eks) : Promise.resolve([]);
  const withClusters = listed.then((all) => ({
    all,
    scope: { ...base, regionClusters: all.filter((c) => o.clusters.length === 0 || o.clusters.includes(c)) },
  }));
  const discover = async (s: (typeof sections)[number]) => s.section.discover(s.section.needsClusters ? (await withClusters).scope : base);
  // Early: a section that hands over a first part is awaited for that part only; any other is all rest, so
  // no kind waits for another's listing before its first changes.
  const discovered = Promise.all(
    sections.map(async (s) => {
      if (!o.early || s.section.early) return { ...s, found: await discover(s) };
      const rest = discover(s);
      rest.catch(() => undefined);
      return { ...s, found: { targets: [], rest: () => rest } };
    }),
  );
  // Both settle before either is read: a failed ListClusters never leaves a section's rejection unhandled.
  const [clustersR, resultsR] = await Promise.allSettled([withClusters, discovered]);
  if (clustersR.status === 'rejected') throw clustersR.reason;
  if (resultsR.status === 'rejected') throw resultsR.reason;
  const { all: allClusters, scope } = clustersR.value;
  const results = resultsR.value;
  const notes = needClusters
    ? o.clusters.filter((c) => !allClusters.includes(c)).map((c) => `cluster ${c} not found in ${ctx.region}`)
    : [];
  return {
    region: ctx.region,
    scope,
    clusters: scope.regionClusters,
    found: results.map((r) => ({
      kind: r.kind,
      section: r.section,
      targets: r.found.targets,
      ...(r.found.rest ? { rest: r.found.rest } : {}),
    })),
    notes: [...notes, ...results.flatMap((r) => r.found.notes ?? [])],
    calls: { describeInstances: results.reduce((n, r) => n + (r.found.describeCalls ?? 0), 0) },
  };
}
