// The node group resource kind: find, evaluate, remediate, describe in the audit.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import { describeVersions, listTemplates } from '../aws/ec2-templates.js';
import { describeNodegroup, updateNodegroupVersion } from '../aws/eks.js';
import { arnFor, recordFor, type AuditFacts, type AuditRecord } from '../core/audit.js';
import { existingFix, isEksManaged, planTemplateFixes, judgeVersions, type TemplateFix } from '../core/launch-template.js';
import { describeViolations, evaluate as evaluatePolicy, type MetadataOptions, type Policy } from '../core/metadata-options.js';
import { resolveOwner } from '../core/scope.js';
import { toTags, type Tags } from '../core/tags.js';
import type { InstanceSettings } from './instance.js';
import * as launchTemplate from './launch-template.js';

export interface NodegroupInfo {
  cluster: string;
  name: string;
  arn?: string;
  status: string;
  tags: Tags;
  /** Set only for node groups created with a custom launch template. */
  launchTemplate?: { id?: string; name?: string; version?: string };
}

export interface FoundNodegroup {
  nodegroup: NodegroupInfo;
  region: string;
  account: string;
  /** The template the nodes launch from: the custom one, or the EKS-created eks-<uuid>. */
  template?: launchTemplate.FoundTemplate;
  /** The version the node group is pinned to. */
  pinnedVersion?: number;
}

/** find: the node group, then its launch template (custom, or EKS-created found by its tags). */
export async function find(eks: EKSClient, ec2: EC2Client, t: { cluster: string; nodegroup: string; region: string; account: string }): Promise<FoundNodegroup | undefined> {
  const ng = await describeNodegroup(eks, t.cluster, t.nodegroup);
  if (!ng) return undefined;
  const info: NodegroupInfo = {
    cluster: t.cluster,
    name: t.nodegroup,
    ...(ng.nodegroupArn ? { arn: ng.nodegroupArn } : {}),
    status: ng.status ?? 'UNKNOWN',
    tags: toTags(ng.tags ?? {}),
    ...(ng.launchTemplate ? { launchTemplate: { ...(ng.launchTemplate.id ? { id: ng.launchTemplate.id } : {}), ...(ng.launchTemplate.name ? { name: ng.launchTemplate.name } : {}), ...(ng.launchTemplate.version ? { version: ng.launchTemplate.version } : {}) } } : {}),
  };
  const base = { nodegroup: info, region: t.region, account: t.account };
  let template: launchTemplate.FoundTemplate | undefined;
  if (info.launchTemplate) {
    const pinned = Number(info.launchTemplate.version);
    template = await launchTemplate.find(ec2, { ...(info.launchTemplate.id ? { id: info.launchTemplate.id } : {}), ...(info.launchTemplate.name ? { name: info.launchTemplate.name } : {}), region: t.region, account: t.account, ...(pinned ? { version: pinned } : {}) });
    if (!template) return base;
    const pinnedVersion = pinned || template.template.defaultVersion;
    // Fixes made earlier appear as later versions: fetch them to reuse rather than duplicate.
    const later = Array.from({ length: Math.max(0, template.template.latestVersion - pinnedVersion) }, (_, i) => pinnedVersion + 1 + i).slice(-20);
    if (later.length) template.versions = mergeVersions(template.versions, await describeVersions(ec2, template.template.id, later));
    return { ...base, template, pinnedVersion };
  }
  for await (const lt of listTemplates(ec2, [
    { Name: 'tag:eks:cluster-name', Values: [t.cluster] },
    { Name: 'tag:eks:nodegroup-name', Values: [t.nodegroup] },
  ])) {
    template = await launchTemplate.find(ec2, { id: lt.id, region: t.region, account: t.account });
    if (template) return { ...base, template, pinnedVersion: template.template.defaultVersion };
  }
  return base;
}

function mergeVersions(a: launchTemplate.FoundTemplate['versions'], b: launchTemplate.FoundTemplate['versions']) {
  const byVersion = new Map([...a, ...b].map((v) => [v.version, v]));
  return [...byVersion.values()].sort((x, y) => x.version - y.version);
}

export type NodegroupDecision =
  | { action: 'compliant'; before?: MetadataOptions }
  | { action: 'report'; reason: string; before?: MetadataOptions; violations: string[]; recommendation?: string }
  /** Create a compliant version (unless `reuse` names one) and move the node group to it. */
  | { action: 'fix'; before?: MetadataOptions; violations: string[]; fix: TemplateFix; reuse?: number };

/** evaluate (pure). */
export function evaluate(f: FoundNodegroup, policy: Policy): NodegroupDecision {
  if (!f.template || f.pinnedVersion === undefined) {
    return { action: 'report', reason: 'launch template not found; instance-level enforcement still covers the nodes', violations: [] };
  }
  const pinned = f.template.versions.find((v) => v.version === f.pinnedVersion);
  const before = pinned?.metadataOptions;
  const ev = evaluatePolicy(before ?? {}, policy);
  if (ev.compliant) return { action: 'compliant', ...(before ? { before } : {}) };
  const violations = describeViolations(ev.violations);
  const common = { ...(before ? { before } : {}), violations };
  if (isEksManaged(f.template.template)) {
    return {
      action: 'report',
      reason: `uses the EKS-created launch template ${f.template.template.name}, which imds-guard must not change (Ec2LaunchTemplateVersionMismatch); its instances are fixed as they launch`,
      recommendation: 'Create a replacement node group with a custom launch template that sets HttpTokens=required and HttpPutResponseHopLimit=1, then move workloads',
      ...common,
    };
  }
  if (f.nodegroup.status !== 'ACTIVE') {
    return { action: 'report', reason: `node group is ${f.nodegroup.status}, not ACTIVE; instance-level enforcement covers its nodes`, ...common };
  }
  const verdicts = judgeVersions({ ...f.template.template, defaultVersion: f.pinnedVersion, latestVersion: f.pinnedVersion }, f.template.versions, policy);
  const [fix] = planTemplateFixes(verdicts, policy);
  if (!fix) return { action: 'report', reason: 'no fix could be planned', ...common };
  const reuse = existingFix(f.template.versions, f.pinnedVersion, policy)?.version;
  return { action: 'fix', ...common, fix: { ...fix, makeDefault: f.template.template.defaultVersion === f.pinnedVersion }, ...(reuse ? { reuse } : {}) };
}

export function rolloutCommand(ng: NodegroupInfo, region: string, templateId: string, version: number): string {
  return `aws eks update-nodegroup-version --region ${region} --cluster-name ${ng.cluster} --nodegroup-name ${ng.name} --launch-template id=${templateId},version=${version}`;
}

export interface NodegroupFixResult {
  newVersion?: number;
  reused: boolean;
  rolledOut: boolean;
  updateId?: string;
  requestId?: string;
  error?: { name: string; message: string };
}

/** remediate: the compliant version first; the disruptive rollout only when opted in. */
export async function remediate(eks: EKSClient, ec2: EC2Client, f: FoundNodegroup, d: Extract<NodegroupDecision, { action: 'fix' }>, rollout: boolean): Promise<NodegroupFixResult> {
  const t = f.template!.template;
  let newVersion = d.reuse;
  if (newVersion === undefined) {
    const [res] = await launchTemplate.remediate(ec2, t, [d.fix]);
    if (!res?.newVersion) return { reused: false, rolledOut: false, ...(res?.error ? { error: res.error } : {}) };
    newVersion = res.newVersion;
  }
  const reused = d.reuse !== undefined;
  if (!rollout) return { newVersion, reused, rolledOut: false };
  try {
    const u = await updateNodegroupVersion(eks, f.nodegroup.cluster, f.nodegroup.name, { id: t.id, version: newVersion });
    return { newVersion, reused, rolledOut: true, ...(u.updateId ? { updateId: u.updateId } : {}), ...(u.requestId ? { requestId: u.requestId } : {}) };
  } catch (err) {
    const e = err as Error;
    return { newVersion, reused, rolledOut: false, error: { name: e.name, message: e.message } };
  }
}

/** describe (pure): the audit record for one node group. */
export function describe(f: Pick<FoundNodegroup, 'region' | 'account'> & { nodegroup: Pick<NodegroupInfo, 'cluster' | 'name' | 'tags'> & { arn?: string } }, s: InstanceSettings, tags: Tags, facts: AuditFacts): AuditRecord {
  const ng = f.nodegroup;
  return recordFor(
    {
      type: 'nodegroup',
      id: ng.name,
      arn: ng.arn ?? arnFor('nodegroup', f.region, f.account, ng.name, ng.cluster),
      region: f.region,
      account: f.account,
      cluster: ng.cluster,
      nodegroup: ng.name,
      owner: resolveOwner({ ...tags, ...ng.tags }, s.ownerTagKeys, s.defaultOwner),
    },
    facts,
  );
}
