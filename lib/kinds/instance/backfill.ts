// The instance kind's part in a backfill: one paginated scan (no Describe per instance), a dry run of
// enforceInstances for the plan, and the same enforceInstances for apply, in chunks that fit the deadline.
import type { AuditRecord } from '../../domain/audit.js';
import type { Trigger } from '../../domain/cloudtrail.js';
import { isComplete } from '../../domain/policy.js';
import { identifyNode } from '../../domain/scope.js';
import type { ApplyLimits, BackfillScope, BackfillSection, SectionApply } from '../types.js';
import type { DescribedInstance } from './aws.js';
import { enforceInstances, type InstanceRun } from './enforce.js';
import type { InstanceTarget } from './events.js';
import { limiterScope } from '../../shell/rate-limit.js';
import { scanInstances, scanInstancesEarly, type InstanceScan } from './scan.js';

/** A scanned instance: options and tags known (enforcing costs no Describe), and its launch time (the sweep's age rule). */
export type ScannedInstance = InstanceTarget & { launchTime?: string };

/**
 * A scanned instance as the target enforceInstances takes.
 *
 * @example
 * const target = toTarget(described, trigger); // target.metadataOptions set when the scan had every field
 */
function toTarget(d: DescribedInstance, trigger: Trigger): ScannedInstance {
  return {
    instanceId: d.instanceId,
    region: trigger.region,
    account: trigger.account,
    ...(isComplete(d.metadataOptions) ? { metadataOptions: d.metadataOptions } : {}),
    tags: d.tags,
    actor: trigger.actor,
    eventId: trigger.eventId,
    eventTime: trigger.eventTime,
    ...(d.launchTime ? { launchTime: d.launchTime } : {}),
  };
}

function runFor(s: BackfillScope, mode: InstanceRun['mode'], targets: ScannedInstance[]): InstanceRun {
  const launched = new Map(targets.map((t) => [t.instanceId, t.launchTime]));
  return {
    ec2: s.ctx.clients.ec2,
    mode,
    settings: s.ctx.settings,
    policyFor: s.ctx.policyFor,
    concurrency: s.config.CONCURRENCY,
    ownerTagsFor: s.ctx.ownerTagsFor,
    ...(s.record ? { onRecord: s.record } : {}),
    ...(mode === 'enforce' && s.queue ? { queue: s.queue } : {}),
    ...(mode === 'enforce' && s.onQueued ? { onQueued: (item) => s.onQueued?.(item, launched.get(item.resource.id)) } : {}),
  };
}

const MODIFY = 'ModifyInstanceMetadataOptions';

/**
 * The first page of an early scan: enough changes to keep the unit's bucket refilling (25 calls: 5 s at 5/s)
 * while the rest of a large Region is listed, few enough that many units starting at once stay cheap.
 */
export const EARLY_PAGE = 25;

async function apply(targets: ScannedInstance[], s: BackfillScope, _earlier: AuditRecord[], o: ApplyLimits): Promise<SectionApply> {
  const run = runFor(s, 'enforce', targets);
  const scope = limiterScope(s.ctx.region, s.ctx.account);
  // One change each, paced over the time the bucket needs for all that are left rather than as one burst;
  // whatever was announced and not sent (a cut, an instance gone) stops pacing at the end.
  const pace = (n: number) => s.limiter?.expect(scope, MODIFY, n);
  try {
    pace(targets.length);
    if (o.deadline === undefined) return { records: await enforceInstances(targets, s.trigger, run) };
    const now = o.now ?? Date.now;
    const size = o.chunkSize ?? 250;
    const out: AuditRecord[] = [];
    for (let i = 0; i < targets.length; i += size) {
      const chunk = targets.slice(i, i + size);
      const last = targets[i - 1];
      if (last) {
        const modify = s.limiter?.estimateMs(scope, MODIFY, chunk.length) ?? chunk.length * 200;
        if (now() + modify + (o.marginMs ?? 30_000) > o.deadline)
          return { records: out, continuation: { afterInstanceId: last.instanceId, remaining: targets.length - i } };
      }
      out.push(...(await enforceInstances(chunk, s.trigger, run)));
    }
    return { records: out };
  } finally {
    pace(0);
  }
}

export const instanceBackfill: BackfillSection<ScannedInstance, ScannedInstance> = {
  include: 'instances',
  sortById: true,
  early: true,
  async discover(s) {
    const o = { scope: s.ctx.settings.scope, query: s.query, maxHopLimit: s.config.MAX_HOP_LIMIT };
    const wanted = (c: string | undefined) => s.clusters.length === 0 || (!!c && s.clusters.includes(c));
    const targetsOf = (scan: InstanceScan) =>
      scan.instances
        .filter((i) => !s.afterInstanceId || i.instanceId > s.afterInstanceId)
        .filter((i) => !s.handled?.has(i.instanceId))
        .filter((i) => wanted(identifyNode(i.tags).cluster))
        .map((i) => toTarget(i, s.trigger));
    if (!s.early) {
      const scan = await scanInstances(s.ctx.clients.ec2, o);
      return { targets: targetsOf(scan), describeCalls: scan.calls };
    }
    // A small first page, changed while the rest is listed: the unit's bucket starts refilling at once.
    const { first, rest } = await scanInstancesEarly(s.ctx.clients.ec2, o, EARLY_PAGE);
    return {
      targets: targetsOf(first),
      describeCalls: first.calls,
      rest: () => rest().then((r) => ({ targets: targetsOf(r), describeCalls: r.calls })),
    };
  },
  async plan(targets, s) {
    const records = await enforceInstances(targets, s.trigger, runFor(s, 'dry-run', targets));
    const would = new Set(records.filter((r) => r.outcome === 'would-remediate').map((r) => r.resource.id));
    return { records, ready: targets.filter((t) => would.has(t.instanceId)) };
  },
  apply,
};
