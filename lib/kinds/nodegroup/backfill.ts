// The node group kind's part in a backfill: the node groups of the Region's (wanted) clusters, planned once.
// Apply runs after the launch templates', and reuses a version their fix made from the pinned version, so
// nothing is described again.
import type { AuditRecord } from '../../domain/audit.js';
import { listNodegroups } from '../../shell/eks.js';
import { pooled } from '../../shell/pool.js';
import type { BackfillScope, BackfillSection } from '../types.js';
import { applyNodegroup, planNodegroup, type MadeEarlier, type NodegroupRun, type ReadyNodegroup } from './enforce.js';
import type { NodegroupTarget } from './events.js';

/** Node groups are few but each is several Describe calls: a small pool is enough. */
const POOL = 4;

const runFor = (s: BackfillScope, mode: NodegroupRun['mode']): NodegroupRun => ({
  eks: s.ctx.clients.eks,
  ec2: s.ctx.clients.ec2,
  mode,
  rollout: s.config.ROLLOUT,
  settings: s.ctx.settings,
  policyFor: s.ctx.policyFor,
});

/**
 * What a launch template record of the same run made from `version` of template `templateId`, if anything.
 *
 * @example
 * madeEarlier(records, 'lt-0abc', 1); // { newVersion: 3, madeDefault: true, latestDone: false }
 */
function madeEarlier(earlier: AuditRecord[], templateId: string, version: number): MadeEarlier | undefined {
  const r = earlier.find(
    (x) =>
      x.resource.type === 'launch-template' &&
      x.resource.id === templateId &&
      x.outcome === 'remediated' &&
      x.details?.sourceVersion === version &&
      typeof x.details.newVersion === 'number',
  );
  const details = r?.details;
  if (typeof details?.newVersion !== 'number') return undefined;
  const copy = details.latestCopy as { newVersion?: number; error?: unknown } | undefined;
  return {
    newVersion: details.newVersion,
    madeDefault: details.madeDefault === true,
    latestDone: copy?.newVersion !== undefined && !copy.error,
  };
}

const logAll = (s: BackfillScope, records: AuditRecord[]) => {
  for (const r of records) s.record?.(r);
};

export const nodegroupBackfill: BackfillSection<NodegroupTarget, ReadyNodegroup> = {
  include: 'nodegroups',
  needsClusters: true,
  after: ['launch-template'],
  async discover(s) {
    const targets: NodegroupTarget[] = [];
    for (const cluster of s.regionClusters)
      for (const nodegroup of await listNodegroups(s.ctx.clients.eks, cluster))
        targets.push({ region: s.ctx.region, account: s.trigger.account, cluster, nodegroup });
    return { targets };
  },
  async plan(targets, s) {
    const run = runFor(s, 'dry-run');
    const plans = await pooled(
      targets,
      POOL,
      (t) => planNodegroup(t, s.trigger, run),
      (p) => logAll(s, p.records),
    );
    const would = (p: (typeof plans)[number]) => (p.ready && p.records.some((r) => r.outcome === 'would-remediate') ? [p.ready] : []);
    return { records: plans.flatMap((p) => p.records), ready: plans.flatMap(would) };
  },
  async apply(ready, s, earlier) {
    const run = runFor(s, 'enforce');
    const made = (r: ReadyNodegroup) => {
      const t = r.found.template?.template;
      return t && r.found.pinnedVersion !== undefined ? madeEarlier(earlier, t.id, r.found.pinnedVersion) : undefined;
    };
    const records = await pooled(
      ready,
      POOL,
      (r) => applyNodegroup(r, run, made(r)),
      (out) => logAll(s, out),
    );
    return { records: records.flat() };
  },
};
