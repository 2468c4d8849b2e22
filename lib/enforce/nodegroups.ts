// Wires the node group module's verbs together. Shared by the event handler and the backfill.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { AuditRecord } from '../core/audit.js';
import type { Trigger } from '../core/cloudtrail.js';
import type { NodegroupTarget } from '../core/nodegroup-events.js';
import type { InstanceSettings } from '../resources/instance.js';
import * as lt from '../resources/launch-template.js';
import * as ng from '../resources/nodegroup.js';
import type { PolicyFor } from './identity.js';

export interface NodegroupRun {
  eks: EKSClient;
  ec2: EC2Client;
  mode: 'enforce' | 'dry-run';
  rollout: boolean;
  settings: InstanceSettings;
  policyFor: PolicyFor;
}

export async function enforceNodegroup(target: NodegroupTarget, trigger: Trigger, run: NodegroupRun): Promise<AuditRecord[]> {
  const stub = { region: target.region, account: target.account, nodegroup: { cluster: target.cluster, name: target.nodegroup, tags: {} } };
  const base = { trigger, mode: run.mode };
  let found: ng.FoundNodegroup | undefined;
  try {
    found = await ng.find(run.eks, run.ec2, target);
  } catch (err) {
    const e = err as Error;
    return [ng.describe(stub, run.settings, {}, { ...base, outcome: 'failed', error: { name: e.name, message: e.message }, reason: 'could not describe the node group' })];
  }
  if (!found) return [ng.describe(stub, run.settings, {}, { ...base, outcome: 'gone', reason: 'node group no longer exists' })];

  const tags = found.template ? lt.ownerTags(found.template) : {};
  if (run.settings.exemptClusters.includes(target.cluster) || found.nodegroup.tags[run.settings.exemptTagKey]?.toLowerCase() === run.settings.exemptTagValue.toLowerCase()) {
    return [ng.describe(found, run.settings, tags, { ...base, outcome: 'exempt', reason: 'exempt by cluster list or tag' })];
  }
  const gate = await run.policyFor(target.cluster);
  const d = ng.evaluate(found, gate.policy);
  const template = found.template?.template;
  const facts = {
    ...base,
    notes: gate.notes,
    ...(d.before ? { before: d.before } : {}),
    details: { launchTemplate: template ? { id: template.id, name: template.name, pinnedVersion: found.pinnedVersion, eksManaged: d.action === 'report' && d.reason.includes('EKS-created') } : null, status: found.nodegroup.status, ...(gate.details ?? {}) },
  };
  if (d.action === 'compliant') return [ng.describe(found, run.settings, tags, { ...facts, outcome: 'compliant', reason: `launch template version ${found.pinnedVersion} meets the policy`, notes: [] })];
  if (d.action === 'report') {
    return [ng.describe(found, run.settings, tags, { ...facts, outcome: 'reported', reason: d.reason, violations: d.violations, details: { ...facts.details, ...(d.recommendation ? { recommendation: d.recommendation } : {}) } })];
  }
  const desired = d.fix.metadataOptions;
  if (run.mode === 'dry-run') {
    // With a compliant version already made and no rollout, enforce would change nothing: say so.
    if (d.reuse !== undefined && !run.rollout) {
      const command = ng.rolloutCommand(found.nodegroup, target.region, template!.id, d.reuse);
      return [ng.describe(found, run.settings, tags, { ...facts, outcome: 'reported', desired, violations: d.violations, details: { ...facts.details, rolloutCommand: command }, reason: `compliant launch template version ${d.reuse} exists; rollout is opt-in (ROLLOUT=true). Run: ${command}` })];
    }
    const what = d.reuse !== undefined ? `would roll the node group onto existing compliant version ${d.reuse}` : `would create a compliant version from ${d.fix.sourceVersion}${run.rollout ? ' and roll the node group onto it' : ''}`;
    return [ng.describe(found, run.settings, tags, { ...facts, outcome: 'would-remediate', desired, violations: d.violations, reason: `dry run: ${what}` })];
  }
  const r = await ng.remediate(run.eks, run.ec2, found, d, run.rollout);
  const command = r.newVersion ? ng.rolloutCommand(found.nodegroup, target.region, template!.id, r.newVersion) : undefined;
  const details = { ...facts.details, newVersion: r.newVersion, reusedVersion: r.reused, rolledOut: r.rolledOut, ...(r.updateId ? { updateId: r.updateId } : {}), ...(command ? { rolloutCommand: command } : {}) };
  const common = { ...facts, desired, violations: d.violations, details, ...(r.requestId ? { requestId: r.requestId } : {}) };
  if (r.error) return [ng.describe(found, run.settings, tags, { ...common, outcome: 'failed', error: r.error, reason: r.newVersion ? `created version ${r.newVersion} but could not roll out` : 'could not create a compliant version' })];
  if (r.rolledOut) return [ng.describe(found, run.settings, tags, { ...common, outcome: 'remediated', after: desired, reason: `rolling out launch template version ${r.newVersion} (update ${r.updateId ?? 'started'})` })];
  return [ng.describe(found, run.settings, tags, { ...common, outcome: 'reported', reason: `compliant launch template version ${r.newVersion} is ready; rollout is opt-in (ROLLOUT=true). Run: ${command}` })];
}
