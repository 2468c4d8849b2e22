// Wires the node group module's verbs together. Shared by the event handler and the backfill.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { AuditFacts, AuditRecord } from '../../domain/audit.js';
import type { Trigger } from '../../domain/cloudtrail.js';
import type { GatedPolicy } from '../../domain/identity.js';
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
type Base = Pick<AuditFacts, 'trigger' | 'mode'>;
type Facts = ReturnType<typeof factsOf>;

/** What the steps after evaluate share: the node group found, the facts every record carries, and how to write one. */
interface Judged {
  run: NodegroupRun;
  region: string;
  found: ng.FoundNodegroup;
  facts: Facts;
  record: (facts: AuditFacts) => AuditRecord;
}

/**
 * The event handlers' and the backfill's verb: find, evaluate and (enforce mode) remediate one node group.
 *
 * @example
 * const records = await enforceNodegroup({ region, account, cluster: 'prod', nodegroup: 'ng-1' }, trigger, run);
 */
export async function enforceNodegroup(target: NodegroupTarget, trigger: Trigger, run: NodegroupRun): Promise<AuditRecord[]> {
  const stub = { region: target.region, account: target.account, nodegroup: { cluster: target.cluster, name: target.nodegroup, tags: {} } };
  const base = { trigger, mode: run.mode };
  let found: ng.FoundNodegroup | undefined;
  try {
    found = await ng.find(run.eks, run.ec2, target);
  } catch (err) {
    return [
      ng.describe(stub, run.settings, {}, { ...base, outcome: 'failed', error: errorOf(err), reason: 'could not describe the node group' }),
    ];
  }
  if (!found) return [ng.describe(stub, run.settings, {}, { ...base, outcome: 'gone', reason: 'node group no longer exists' })];

  const f = found;
  const tags = f.template ? templateOwnerTags(f.template) : {};
  const record = (facts: AuditFacts) => ng.describe(f, run.settings, tags, facts);
  const exempt = exemption(f.nodegroup.tags, target.cluster, run.settings);
  if (exempt) return [record({ ...base, outcome: 'exempt', reason: exempt })];
  const gate = await run.policyFor(target.cluster);
  const d = ng.evaluate(f, gate.policy);
  const facts = factsOf(f, d, gate, base);
  if (d.action === 'compliant') {
    return [record({ ...facts, outcome: 'compliant', reason: `launch template version ${f.pinnedVersion} meets the policy`, notes: [] })];
  }
  if (d.action === 'report') {
    return [
      record({
        ...facts,
        outcome: 'reported',
        reason: d.reason,
        violations: d.violations,
        details: { ...facts.details, ...(d.recommendation ? { recommendation: d.recommendation } : {}) },
      }),
    ];
  }
  const judged: Judged = { run, region: target.region, found: f, facts, record };
  return [run.mode === 'dry-run' ? dryRun(judged, d) : await apply(judged, d)];
}

/** The facts every record of a judged node group carries: its template, pinned version and status, and the gate's notes. */
function factsOf(found: ng.FoundNodegroup, d: ng.NodegroupDecision, gate: GatedPolicy, base: Base) {
  const template = found.template?.template;
  return {
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
}

/** A dry run: what enforce would do, or (a compliant version exists and there is no rollout to do) the command to run. */
function dryRun(j: Judged, d: Fix): AuditRecord {
  const { run, found, facts } = j;
  const desired = d.fix.metadataOptions;
  const status = found.nodegroup.status;
  const active = status === 'ACTIVE';
  const reuse = d.fix.reuse;
  // With a compliant version already made and no rollout to do now, enforce would change nothing: say so.
  if (reuse !== undefined && !d.latest && (!run.rollout || !active)) {
    const command = ng.rolloutCommand(found.nodegroup, j.region, d.template.id, reuse);
    return j.record({
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
  return j.record({
    ...facts,
    outcome: 'would-remediate',
    desired,
    violations: d.violations,
    reason: `dry run: would ${make}${again}${roll}`,
  });
}

/** Enforce: make (or reuse) the compliant version, then roll out when asked; one record of what happened. */
async function apply(j: Judged, d: Fix): Promise<AuditRecord> {
  const { run, found, facts } = j;
  const desired = d.fix.metadataOptions;
  const r = await ng.remediate(run.eks, run.ec2, found, d, run.rollout);
  const command = r.newVersion ? ng.rolloutCommand(found.nodegroup, j.region, d.template.id, r.newVersion) : undefined;
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
  if (r.error) return j.record({ ...common, outcome: 'failed', error: r.error, reason: failedStep(r, d, copied) });
  if (r.rolledOut) {
    return j.record({
      ...common,
      outcome: 'remediated',
      after: desired,
      reason: `rolling out launch template version ${r.newVersion}${copied} (update ${r.updateId ?? 'started'})`,
    });
  }
  const status = found.nodegroup.status;
  return j.record({
    ...common,
    outcome: 'reported',
    reason: `compliant launch template version ${r.newVersion} is ready${copied}; ${waitOrOptIn(run.rollout, status)}. Run: ${command}`,
  });
}

/** Why a remediation failed, by the step that failed. */
function failedStep(r: ng.NodegroupFixResult, d: Fix, copied: string): string {
  switch (r.failedStep ?? 'create') {
    case 'create':
      return 'could not create a compliant version';
    case 'latest':
      return (
        `version ${r.newVersion} is ready, but repeating version ${r.latestCopy?.sourceVersion} failed: ` +
        `$Latest is version ${r.newVersion} (version ${d.fix.sourceVersion}'s content) until a retry`
      );
    case 'default':
      return `version ${r.newVersion} is ready${copied}, but could not be made the default`;
    case 'rollout':
      return `version ${r.newVersion} is ready${copied}, but could not roll out`;
  }
}

function waitOrOptIn(rollout: boolean, status: string): string {
  return rollout ? `the rollout waits for the node group to be ACTIVE (it is ${status})` : 'rollout is opt-in (ROLLOUT=true)';
}
