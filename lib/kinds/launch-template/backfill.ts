// The launch template kind's part in a backfill: list the Region's templates (kept, with a cluster filter,
// when they name a wanted cluster or a wanted cluster's node group uses them), plan each once, apply the plan.
import pLimit from 'p-limit';
import type { TemplateInfo } from '../../domain/template-versions.js';
import { identifyNode } from '../../domain/scope.js';
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
    const pool = pLimit(POOL);
    const run = runFor(s, 'dry-run');
    const plans = await Promise.all(
      targets.map((t) =>
        pool(async () => {
          const p = await planTemplate({ region: s.ctx.region, account: s.trigger.account, launchTemplateId: t.id }, s.trigger, run);
          for (const r of p.records) s.record?.(r);
          return p;
        }),
      ),
    );
    return { records: plans.flatMap((p) => p.records), ready: plans.flatMap((p) => (p.ready ? [p.ready] : [])) };
  },
  async apply(ready, s) {
    const pool = pLimit(POOL);
    const run = runFor(s, 'enforce');
    const records = await Promise.all(
      ready.map((r) =>
        pool(async () => {
          const out = await applyTemplate(r, run);
          for (const x of out) s.record?.(x);
          return out;
        }),
      ),
    );
    return { records: records.flat() };
  },
};
