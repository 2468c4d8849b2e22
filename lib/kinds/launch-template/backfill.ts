// The launch template kind's part in a backfill: list the Region's templates (kept, with a cluster filter,
// when they name a wanted cluster or a wanted cluster's node group uses them), plan each once, apply the plan.
import type { AuditRecord } from '../../domain/audit.js';
import type { TemplateInfo } from '../../domain/template-versions.js';
import { identifyNode } from '../../domain/scope.js';
import { pooled } from '../../shell/pool.js';
import { listTemplates } from '../../shell/template-versions.js';
import type { BackfillScope, BackfillSection } from '../types.js';
import { applyTemplate, planTemplate, type ReadyTemplate, type TemplateRun } from './enforce.js';

/** Templates are few but each is several Describe calls: a small pool is enough. */
const POOL = 4;

const runFor = (s: BackfillScope, mode: TemplateRun['mode']): TemplateRun => ({
  ec2: s.ctx.clients.ec2,
  mode,
  settings: s.ctx.settings,
  policyFor: s.ctx.policyFor,
  usedBy: s.ctx.usedBy,
});

const logAll = (s: BackfillScope, records: AuditRecord[]) => {
  for (const r of records) s.record?.(r);
};

export const launchTemplateBackfill: BackfillSection<TemplateInfo, ReadyTemplate> = {
  include: 'templates',
  async discover(s) {
    const all: TemplateInfo[] = [];
    for await (const t of listTemplates(s.ctx.clients.ec2)) all.push(t);
    if (s.clusters.length === 0) return { targets: all };
    // The node group index is built once per Region, and only with a cluster filter.
    const wanted = (c: string | undefined) => !!c && s.clusters.includes(c);
    const keep = await Promise.all(
      all.map(async (t) => wanted(identifyNode(t.tags).cluster) || (await s.ctx.usedBy(t.id, t.name)).some((r) => wanted(r.cluster))),
    );
    return { targets: all.filter((_, i) => keep[i]) };
  },
  async plan(targets, s) {
    const run = runFor(s, 'dry-run');
    const ref = (t: TemplateInfo) => ({ region: s.ctx.region, account: s.trigger.account, launchTemplateId: t.id });
    const plans = await pooled(
      targets,
      POOL,
      (t) => planTemplate(ref(t), s.trigger, run),
      (p) => logAll(s, p.records),
    );
    return { records: plans.flatMap((p) => p.records), ready: plans.flatMap((p) => (p.ready ? [p.ready] : [])) };
  },
  async apply(ready, s) {
    const run = runFor(s, 'enforce');
    const records = await pooled(
      ready,
      POOL,
      (r) => applyTemplate(r, run),
      (out) => logAll(s, out),
    );
    return { records: records.flat() };
  },
};
