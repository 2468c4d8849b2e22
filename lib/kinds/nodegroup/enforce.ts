// Wires the node group module's verbs together. Shared by the event handler and the backfill.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { AuditFacts, AuditRecord } from '../../domain/audit.js';
import type { Trigger } from '../../domain/cloudtrail.js';
import type { NodegroupTarget } from './events.js';
import { exemption, type Settings } from '../../domain/scope.js';
import { latestCopyNote, templateOwnerTags } from '../../domain/template-versions.js';
import * as ng from './nodegroup.js';
import type { PolicyFor } from '../../shell/identity.js';
import { errorOf } from '../../domain/errors.js';

export interface NodegroupRun {
  eks: EKSClient;
  ec2: EC2Client;
  mode: 'enforce' | 'dry-run';
  rollout: boolean;
  settings: Settings;
  policyFor: PolicyFor;
}

type Fix = Extract<ng.NodegroupDecision, { action: 'fix' }>;

/** What applying a planned node group fix needs: found and judged once, so apply describes nothing again. */
export interface ReadyNodegroup {
  target: NodegroupTarget;
  found: ng.FoundNodegroup;
  decision: Fix;
  tags: Record<string, string>;
  facts: Omit<AuditFacts, 'outcome'> & { details: Record<string, unknown> };
}

/** The records the plan writes (dry-run wording for a fix), and for a fix what apply needs. */
export interface NodegroupPlan {
  records: AuditRecord[];
  ready?: ReadyNodegroup;
}

/** What a launch template fix in the same run made from the node group's pinned version (the backfill passes it). */
export interface MadeEarlier {
  newVersion: number;
  madeDefault: boolean;
  /** The template's fix also created the old $Latest again: the node group's fix must not repeat it. */
  latestDone: boolean;
}

/**
 * The event handlers' verb: plan, then (enforce mode) apply the plan.
 *
 * @example
 * const records = await enforceNodegroup({ region, account, cluster: 'c1', nodegroup: 'ng' }, trigger, run);
 */
export async function enforceNodegroup(target: NodegroupTarget, trigger: Trigger, run: NodegroupRun): Promise<AuditRecord[]> {
  const p = await planNodegroup(target, trigger, run);
  return p.ready && run.mode === 'enforce' ? applyNodegroup(p.ready, run) : p.records;
}

/** Find and evaluate one node group; a fix gets its records (dry-run wording) and a ReadyNodegroup for applyNodegroup. */
export async function planNodegroup(target: NodegroupTarget, trigger: Trigger, run: NodegroupRun): Promise<NodegroupPlan> {
  const stub = { region: target.region, account: target.account, nodegroup: { cluster: target.cluster, name: target.nodegroup, tags: {} } };
  const base = { trigger, mode: run.mode };
  const only = (r: AuditRecord): NodegroupPlan => ({ records: [r] });
  let found: ng.FoundNodegroup | undefined;
  try {
    found = await ng.find(run.eks, run.ec2, target);
  } catch (err) {
    return only(
      ng.describe(stub, run.settings, {}, { ...base, outcome: 'failed', error: errorOf(err), reason: 'could not describe the node group' }),
    );
  }
  if (!found) return only(ng.describe(stub, run.settings, {}, { ...base, outcome: 'gone', reason: 'node group no longer exists' }));

  const tags = found.template ? templateOwnerTags(found.template) : {};
  const exempt = exemption(found.nodegroup.tags, target.cluster, run.settings);
  if (exempt) return only(ng.describe(found, run.settings, tags, { ...base, outcome: 'exempt', reason: exempt }));
  const gate = await run.policyFor(target.cluster);
  const d = ng.evaluate(found, gate.policy);
  const template = found.template?.template;
  const facts = {
    ...base,
    notes: gate.notes,
    ...(d.before ? { before: d.before } : {}),
    details: {
      launchTemplate: template
        ? {
            id: template.id,
            name: template.name,
            pinnedVersion: found.pinnedVersion,
            eksManaged: d.action === 'report' && d.reason.includes('EKS-created'),
          }
        : null,
      status: found.nodegroup.status,
      ...(gate.details ?? {}),
    },
  };
  if (d.action === 'compliant')
    return only(
      ng.describe(found, run.settings, tags, {
        ...facts,
        outcome: 'compliant',
        reason: `launch template version ${found.pinnedVersion} meets the policy`,
        notes: [],
      }),
    );
  if (d.action === 'report') {
    const details = { ...facts.details, ...(d.recommendation ? { recommendation: d.recommendation } : {}) };
    return only(
      ng.describe(found, run.settings, tags, { ...facts, outcome: 'reported', reason: d.reason, violations: d.violations, details }),
    );
  }
  const ready: ReadyNodegroup = { target, found, decision: d, tags, facts };
  return { records: [dryRunRecord(ready, run)], ready };
}

function dryRunRecord(r: ReadyNodegroup, run: Pick<NodegroupRun, 'rollout' | 'settings'>): AuditRecord {
  const { found, decision: d, tags, target } = r;
  const facts = { ...r.facts, mode: 'dry-run' as const };
  const desired = d.fix.metadataOptions;
  const status = found.nodegroup.status;
  const active = status === 'ACTIVE';
  const reuse = d.fix.reuse;
  // With a compliant version already made and no rollout to do now, enforce would change nothing: say so.
  if (reuse !== undefined && !d.latest && (!run.rollout || !active)) {
    const command = ng.rolloutCommand(found.nodegroup, target.region, found.template?.template.id ?? '', reuse);
    return ng.describe(found, run.settings, tags, {
      ...facts,
      outcome: 'reported',
      desired,
      violations: d.violations,
      details: { ...facts.details, rolloutCommand: command },
      reason: `compliant launch template version ${reuse} exists; ${waitOrOptIn(run.rollout, status)}. Run: ${command}`,
    });
  }
  const make = reuse !== undefined ? `use existing compliant version ${reuse}` : `create a compliant version from ${d.fix.sourceVersion}`;
  const roll = run.rollout
    ? active
      ? ' and roll the node group onto it'
      : ` (the rollout waits for ACTIVE; the node group is ${status})`
    : '';
  const again = d.latest ? `, then version ${d.latest.sourceVersion} again so $Latest keeps its content` : '';
  return ng.describe(found, run.settings, tags, {
    ...facts,
    outcome: 'would-remediate',
    desired,
    violations: d.violations,
    reason: `dry run: would ${make}${again}${roll}`,
  });
}

/**
 * The decision once a template fix earlier in the same run made the pinned version's fix: reuse that version
 * (the default is already set when the template made it so), and leave $Latest to the template's own copy.
 */
function afterEarlierFix(d: Fix, made: MadeEarlier | undefined): Fix {
  if (!made) return d;
  const fix = { ...d.fix, reuse: made.newVersion, makeDefault: d.fix.makeDefault && !made.madeDefault };
  const { latest, ...rest } = d;
  return { ...rest, fix, ...(latest && !made.latestDone ? { latest } : {}) };
}

/** Apply a plan: make (or reuse) the compliant version, then roll out when opted in and ACTIVE. */
export async function applyNodegroup(ready: ReadyNodegroup, run: NodegroupRun, made?: MadeEarlier): Promise<AuditRecord[]> {
  const { found, tags, target } = ready;
  const d = afterEarlierFix(ready.decision, made);
  const template = found.template?.template;
  const facts = { ...ready.facts, mode: run.mode };
  const desired = d.fix.metadataOptions;
  const status = found.nodegroup.status;
  const r = await ng.remediate(run.eks, run.ec2, found, d, run.rollout);
  const command = r.newVersion && template ? ng.rolloutCommand(found.nodegroup, target.region, template.id, r.newVersion) : undefined;
  const details = {
    ...facts.details,
    newVersion: r.newVersion,
    reusedVersion: r.reused,
    madeDefault: r.madeDefault,
    ...(r.latestCopy ? { latestCopy: r.latestCopy } : {}),
    rolledOut: r.rolledOut,
    ...(r.rolloutWaiting ? { rolloutWaiting: true } : {}),
    ...(r.updateId ? { updateId: r.updateId } : {}),
    ...(command ? { rolloutCommand: command } : {}),
  };
  const common = { ...facts, desired, violations: d.violations, details, ...(r.requestId ? { requestId: r.requestId } : {}) };
  const copied =
    d.latest && r.latestCopy?.newVersion !== undefined && !r.latestCopy.error ? latestCopyNote(d.latest, r.latestCopy.newVersion) : '';
  if (r.error) {
    const what = {
      create: 'could not create a compliant version',
      latest:
        `version ${r.newVersion} is ready, but repeating version ${r.latestCopy?.sourceVersion} failed: ` +
        `$Latest is version ${r.newVersion} (version ${d.fix.sourceVersion}'s content) until a retry`,
      default: `version ${r.newVersion} is ready${copied}, but could not be made the default`,
      rollout: `version ${r.newVersion} is ready${copied}, but could not roll out`,
    }[r.failedStep ?? 'create'];
    return [ng.describe(found, run.settings, tags, { ...common, outcome: 'failed', error: r.error, reason: what })];
  }
  if (r.rolledOut)
    return [
      ng.describe(found, run.settings, tags, {
        ...common,
        outcome: 'remediated',
        after: desired,
        reason: `rolling out launch template version ${r.newVersion}${copied} (update ${r.updateId ?? 'started'})`,
      }),
    ];
  return [
    ng.describe(found, run.settings, tags, {
      ...common,
      outcome: 'reported',
      reason: `compliant launch template version ${r.newVersion} is ready${copied}; ${waitOrOptIn(run.rollout, status)}. Run: ${command}`,
    }),
  ];
}

function waitOrOptIn(rollout: boolean, status: string): string {
  return rollout ? `the rollout waits for the node group to be ACTIVE (it is ${status})` : 'rollout is opt-in (ROLLOUT=true)';
}
