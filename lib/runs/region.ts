// One Region of a backfill: plan everything as a dry run (the report a scan prints), then, in
// enforce mode, apply only what the plan says would change, through the same enforce* functions
// the event handlers use. A scan therefore makes no mutating call by construction.
import pLimit from 'p-limit';
import { getMetadataDefaults } from '../kinds/account-defaults/aws.js';
import { identityReadiness } from '../shell/identity-readiness.js';
import { recordFor, arnFor, type AuditRecord } from '../domain/audit.js';
import { defaultsAsOptions, evaluateDefaults, type AccountDefaults, type DefaultsPosture } from '../kinds/account-defaults/policy.js';
import type { Trigger } from '../domain/cloudtrail.js';
import type { IdentityReadiness } from '../domain/identity.js';
import type { InstanceTarget } from '../kinds/instance/events.js';
import { enforceInstances } from '../kinds/instance/enforce.js';
import { enforceNodegroup } from '../kinds/nodegroup/enforce.js';
import { applyTemplate, planTemplate, type ReadyTemplate } from '../kinds/launch-template/enforce.js';
import { basePolicy } from '../shell/settings.js';
import { kindOrder } from '../kinds/index.js';
import type { BackfillContext } from './context.js';
import type { RegionDiscovery } from './discover.js';

export type Mode = 'enforce' | 'dry-run';

export interface RegionHooks {
  /** Called for every record as it is decided (progress bars, metrics). */
  record?: (r: AuditRecord) => void;
}

export interface RegionPlan {
  discovery: RegionDiscovery;
  /** Dry-run records for everything discovered. */
  records: AuditRecord[];
  identity: IdentityReadiness[];
  accountDefaults?: { defaults: AccountDefaults; posture: DefaultsPosture };
  /** Templates the plan would fix, by ID, with what apply needs: apply describes none of them again. */
  readyTemplates: Map<string, ReadyTemplate>;
}

/** Templates and node groups are few but each is several Describe calls: a small pool is enough. */
const RESOURCE_CONCURRENCY = 4;

export function accountDefaultsRecord(
  ctx: BackfillContext,
  trigger: Trigger,
  d: AccountDefaults,
  posture: DefaultsPosture,
  facts: Pick<AuditRecord, 'mode' | 'outcome'> & Partial<Pick<AuditRecord, 'after' | 'desired' | 'reason' | 'error' | 'requestId'>>,
): AuditRecord {
  const id = `account-defaults/${ctx.region}`;
  return recordFor(
    {
      type: 'account-defaults',
      id,
      arn: arnFor('account-defaults', ctx.region, trigger.account, id),
      region: ctx.region,
      account: trigger.account,
      owner: ctx.settings.defaultOwner,
      name: 'instance metadata defaults',
    },
    {
      trigger,
      ...facts,
      before: defaultsAsOptions(d),
      violations: posture.violations,
      notes: posture.notes,
      details: { defaults: d, managedByPolicy: posture.managedByPolicy, ...(posture.change ? { change: posture.change } : {}) },
    },
  );
}

async function readiness(ctx: BackfillContext, cluster: string): Promise<IdentityReadiness> {
  // With the gate on, policyFor has fetched (and cached) readiness already: reuse it.
  const gated = await ctx.policyFor(cluster);
  const r = gated.details?.identity as IdentityReadiness | undefined;
  return r ?? identityReadiness(ctx.clients.eks, ctx.clients.iam, cluster);
}

export async function planRegion(
  ctx: BackfillContext,
  d: RegionDiscovery,
  trigger: Trigger,
  include: { accountDefaults: boolean; identity: boolean },
  hooks: RegionHooks = {},
): Promise<RegionPlan> {
  const emit = (rs: AuditRecord[]) => {
    for (const r of rs) hooks.record?.(r);
    return rs;
  };
  const common = { mode: 'dry-run' as const, settings: ctx.settings, policyFor: ctx.policyFor };
  const pool = pLimit(RESOURCE_CONCURRENCY);

  const defaultsP = include.accountDefaults
    ? getMetadataDefaults(ctx.clients.ec2).then((defaults) => {
        const posture = evaluateDefaults(defaults, basePolicy(ctx.config));
        const record = accountDefaultsRecord(ctx, trigger, defaults, posture, {
          mode: 'dry-run',
          outcome: posture.compliant ? 'compliant' : 'reported',
          reason: reasonOf(posture),
        });
        emit([record]);
        return { defaults, posture, record };
      })
    : Promise.resolve(undefined);
  const identityP = include.identity ? Promise.all(d.clusters.map((c) => pool(() => readiness(ctx, c)))) : Promise.resolve([]);
  const templatesP = Promise.all(
    d.templates.map((t) =>
      pool(async () => {
        const target = { region: ctx.region, account: trigger.account, launchTemplateId: t.id };
        const p = await planTemplate(target, trigger, { ...common, ec2: ctx.clients.ec2, usedBy: ctx.usedBy });
        emit(p.records);
        return p;
      }),
    ),
  );
  const nodegroupsP = Promise.all(
    d.nodegroups.map((t) =>
      pool(async () =>
        emit(await enforceNodegroup(t, trigger, { ...common, eks: ctx.clients.eks, ec2: ctx.clients.ec2, rollout: ctx.config.ROLLOUT })),
      ),
    ),
  );
  const instancesP = enforceInstances(d.instances, trigger, {
    ...common,
    ec2: ctx.clients.ec2,
    concurrency: ctx.config.CONCURRENCY,
    ownerTagsFor: ctx.ownerTagsFor,
    ...(hooks.record ? { onRecord: hooks.record } : {}),
  });

  const [defaults, identity, templates, nodegroups, instances] = await Promise.all([
    defaultsP,
    identityP,
    templatesP,
    nodegroupsP,
    instancesP,
  ]);
  return {
    discovery: d,
    records: ordered(
      [...(defaults ? [defaults.record] : []), ...templates.flatMap((p) => p.records), ...nodegroups.flat(), ...instances],
      d.instances,
    ),
    identity,
    readyTemplates: new Map(templates.flatMap((p) => (p.ready ? [[p.ready.template.id, p.ready] as const] : []))),
    ...(defaults ? { accountDefaults: { defaults: defaults.defaults, posture: defaults.posture } } : {}),
  };
}

function reasonOf(p: DefaultsPosture): string {
  return p.compliant
    ? 'account defaults require tokens and a compliant hop limit'
    : p.managedByPolicy
      ? 'managed by a declarative policy; change it in AWS Organizations'
      : 'scan and enforce do not change account defaults: run imds-guard account-defaults --apply';
}

/** Records arrive in completion order; reports read better by type, then instance ID order. */
function ordered(records: AuditRecord[], targets: InstanceTarget[]): AuditRecord[] {
  const pos = new Map(targets.map((t, i) => [t.instanceId, i]));
  return [...records].sort(
    (a, b) =>
      kindOrder(a.resource.type) - kindOrder(b.resource.type) ||
      (a.resource.type === 'instance' ? (pos.get(a.resource.id) ?? 0) - (pos.get(b.resource.id) ?? 0) : 0),
  );
}

export interface ApplyOptions {
  /** Epoch ms: stop starting new instance chunks when the next one would not finish in time. */
  deadline?: number;
  /** Instances per chunk when a deadline is set. */
  chunkSize?: number;
  /** Time kept back for reporting after the last chunk. */
  marginMs?: number;
  now?: () => number;
}

export interface RegionApply {
  records: AuditRecord[];
  /** Set when the deadline stopped the run: every instance ID <= this was handled. */
  continuation?: { afterInstanceId: string; remaining: number };
}

const key = (r: AuditRecord) =>
  `${r.resource.type}\u0000${r.resource.type === 'nodegroup' ? `${r.resource.cluster}/` : ''}${r.resource.id}`;

/** Enforce what the plan marked would-remediate; everything else keeps its plan record. */
export async function applyRegion(
  ctx: BackfillContext,
  plan: RegionPlan,
  trigger: Trigger,
  hooks: RegionHooks = {},
  o: ApplyOptions = {},
): Promise<RegionApply> {
  const now = o.now ?? Date.now;
  const would = new Set(plan.records.filter((r) => r.outcome === 'would-remediate').map(key));
  const emit = (rs: AuditRecord[]) => {
    for (const r of rs) hooks.record?.(r);
    return rs;
  };
  const common = { mode: 'enforce' as const, settings: ctx.settings, policyFor: ctx.policyFor };
  const d = plan.discovery;

  // Templates first, then node groups: a node group's fix then reuses the template's new version.
  const resourcesP = (async () => {
    const pool = pLimit(RESOURCE_CONCURRENCY);
    const templates = d.templates.filter((t) => would.has(`launch-template\u0000${t.id}`));
    const t = await Promise.all(
      templates.flatMap((x) => {
        const ready = plan.readyTemplates.get(x.id);
        return ready ? [pool(async () => emit(await applyTemplate(ready, { ...common, ec2: ctx.clients.ec2 })))] : [];
      }),
    );
    const groups = d.nodegroups.filter((g) => would.has(`nodegroup\u0000${g.cluster}/${g.nodegroup}`));
    const n = await Promise.all(
      groups.map((g) =>
        pool(async () =>
          emit(await enforceNodegroup(g, trigger, { ...common, eks: ctx.clients.eks, ec2: ctx.clients.ec2, rollout: ctx.config.ROLLOUT })),
        ),
      ),
    );
    return [...t.flat(), ...n.flat()];
  })();

  // Instances: the targets already carry options and tags, so N changes cost N Modify calls.
  const instancesP = (async () => {
    const targets = d.instances.filter((i) => would.has(`instance\u0000${i.instanceId}`));
    const run = {
      ...common,
      ec2: ctx.clients.ec2,
      concurrency: ctx.config.CONCURRENCY,
      ownerTagsFor: ctx.ownerTagsFor,
      ...(hooks.record ? { onRecord: hooks.record } : {}),
    };
    if (o.deadline === undefined) return { records: await enforceInstances(targets, trigger, run) };
    const size = o.chunkSize ?? 250;
    const out: AuditRecord[] = [];
    for (let i = 0; i < targets.length; i += size) {
      const chunk = targets.slice(i, i + size);
      if (i > 0) {
        const estimate =
          (ctx.limiter?.estimateMs(ctx.region, 'ModifyInstanceMetadataOptions', chunk.length) ?? chunk.length * 200) +
          (o.marginMs ?? 30_000);
        if (now() + estimate > o.deadline) {
          return { records: out, continuation: { afterInstanceId: targets[i - 1]!.instanceId, remaining: targets.length - i } };
        }
      }
      out.push(...(await enforceInstances(chunk, trigger, run)));
    }
    return { records: out };
  })();

  const [resources, instances] = await Promise.all([resourcesP, instancesP]);
  const replaced = new Map<string, AuditRecord[]>();
  for (const r of [...resources, ...instances.records]) replaced.set(key(r), [...(replaced.get(key(r)) ?? []), r]);

  const cut = instances.continuation?.afterInstanceId;
  const records: AuditRecord[] = [];
  const done = new Set<string>();
  for (const r of plan.records) {
    // Past the continuation point, instances belong to the next run.
    if (cut && r.resource.type === 'instance' && r.resource.id > cut) continue;
    const k = key(r);
    const fresh = replaced.get(k);
    if (!fresh) records.push(r);
    else if (!done.has(k)) {
      records.push(...fresh);
      done.add(k);
    }
  }
  return { records: ordered(records, d.instances), ...(instances.continuation ? { continuation: instances.continuation } : {}) };
}
