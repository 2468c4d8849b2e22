// The node group resource kind: find, evaluate, remediate, describe in the audit.
import { errorOf } from '../../domain/errors.js';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import { listTemplates } from '../../shell/template-versions.js';
import { updateNodegroupVersion } from './aws.js';
import { describeNodegroup } from '../../shell/eks.js';
import { applyTemplateFixes, findTemplate, latestCopyOf, withVersionsAfter } from '../../shell/template-fixes.js';
import { arn, recordFor, type AuditFacts, type AuditRecord } from '../../domain/audit.js';
import { isEksManaged, planFixes, type FoundTemplate, type TemplateFix, type TemplateInfo } from '../../domain/template-versions.js';
import { describeViolations, evaluate as evaluatePolicy, type MetadataOptions, type Policy } from '../../domain/policy.js';
import { resolveOwner, type Settings } from '../../domain/scope.js';
import { toTags, type Tags } from '../../domain/tags.js';

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
  template?: FoundTemplate;
  /** The version the node group is pinned to. */
  pinnedVersion?: number;
}

/** find: the node group, then its launch template (custom, or EKS-created found by its tags). */
export async function find(
  eks: EKSClient,
  ec2: EC2Client,
  t: { cluster: string; nodegroup: string; region: string; account: string },
): Promise<FoundNodegroup | undefined> {
  const ng = await describeNodegroup(eks, t.cluster, t.nodegroup);
  if (!ng) return undefined;
  const info: NodegroupInfo = {
    cluster: t.cluster,
    name: t.nodegroup,
    ...(ng.nodegroupArn ? { arn: ng.nodegroupArn } : {}),
    status: ng.status ?? 'UNKNOWN',
    tags: toTags(ng.tags ?? {}),
    ...(ng.launchTemplate
      ? {
          launchTemplate: {
            ...(ng.launchTemplate.id ? { id: ng.launchTemplate.id } : {}),
            ...(ng.launchTemplate.name ? { name: ng.launchTemplate.name } : {}),
            ...(ng.launchTemplate.version ? { version: ng.launchTemplate.version } : {}),
          },
        }
      : {}),
  };
  const base = { nodegroup: info, region: t.region, account: t.account };
  let template: FoundTemplate | undefined;
  if (info.launchTemplate) {
    const pinned = Number(info.launchTemplate.version);
    template = await findTemplate(ec2, {
      ...(info.launchTemplate.id ? { id: info.launchTemplate.id } : {}),
      ...(info.launchTemplate.name ? { name: info.launchTemplate.name } : {}),
      region: t.region,
      account: t.account,
      ...(pinned ? { version: pinned } : {}),
    });
    if (!template) return base;
    const pinnedVersion = pinned || template.template.defaultVersion;
    // Fixes made earlier appear as later versions: fetch them (by range: some may be deleted) to reuse.
    if (pinnedVersion < template.template.latestVersion) template = await withVersionsAfter(ec2, template, pinnedVersion);
    return { ...base, template, pinnedVersion };
  }
  for await (const lt of listTemplates(ec2, [
    { Name: 'tag:eks:cluster-name', Values: [t.cluster] },
    { Name: 'tag:eks:nodegroup-name', Values: [t.nodegroup] },
  ])) {
    template = await findTemplate(ec2, { id: lt.id, region: t.region, account: t.account });
    if (template) return { ...base, template, pinnedVersion: template.template.defaultVersion };
  }
  return base;
}

export type NodegroupDecision =
  | { action: 'compliant'; before?: MetadataOptions }
  | { action: 'report'; reason: string; before?: MetadataOptions; violations: string[]; recommendation?: string }
  /**
   * Create a compliant version of `template` (unless `fix.reuse` names one) and move the node group to it.
   * `latest`: the old $Latest again, when the fix would replace it as $Latest.
   */
  | { action: 'fix'; template: TemplateInfo; before?: MetadataOptions; violations: string[]; fix: TemplateFix; latest?: TemplateFix };

const EKS_MANAGED_REASON = (name: string) =>
  `uses the EKS-created launch template ${name}, which imds-guard must not change (Ec2LaunchTemplateVersionMismatch); ` +
  'its instances are fixed as they launch';
const EKS_MANAGED_RECOMMENDATION =
  'Create a replacement node group with a custom launch template that sets HttpTokens=required and HttpPutResponseHopLimit=1, ' +
  'then move workloads';

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
      reason: EKS_MANAGED_REASON(f.template.template.name),
      recommendation: EKS_MANAGED_RECOMMENDATION,
      ...common,
    };
  }
  // Any status: the version is made now (a node group is still CREATING or UPDATING when its event
  // arrives); only the rollout waits for ACTIVE.
  const t = f.template.template;
  const [fix, latest] = planFixes(
    [{ version: f.pinnedVersion, makeDefault: t.defaultVersion === f.pinnedVersion }],
    t.latestVersion,
    f.template.versions,
    policy,
  );
  if (!fix) return { action: 'report', reason: 'no fix could be planned', ...common };
  return { action: 'fix', template: t, ...common, fix, ...(latest ? { latest } : {}) };
}

export function rolloutCommand(ng: NodegroupInfo, region: string, templateId: string, version: number): string {
  return (
    `aws eks update-nodegroup-version --region ${region} --cluster-name ${ng.cluster} --nodegroup-name ${ng.name} ` +
    `--launch-template id=${templateId},version=${version}`
  );
}

export interface NodegroupFixResult {
  newVersion?: number;
  reused: boolean;
  madeDefault: boolean;
  /** The old $Latest created again (see NodegroupDecision). */
  latestCopy?: { sourceVersion: number; newVersion?: number; error?: { name: string; message: string } };
  rolledOut: boolean;
  /** ROLLOUT=true, but the node group is not ACTIVE (EKS refuses updates then): the owner or a later event rolls out. */
  rolloutWaiting?: boolean;
  updateId?: string;
  requestId?: string;
  error?: { name: string; message: string };
  failedStep?: 'create' | 'latest' | 'default' | 'rollout';
}

/** remediate: the compliant version first (any status); the disruptive rollout only when opted in and ACTIVE. */
export async function remediate(
  eks: EKSClient,
  ec2: EC2Client,
  f: FoundNodegroup,
  d: Extract<NodegroupDecision, { action: 'fix' }>,
  rollout: boolean,
): Promise<NodegroupFixResult> {
  const t = d.template;
  const [res, copy] = await applyTemplateFixes(ec2, t, [d.fix, ...(d.latest ? [d.latest] : [])]);
  const latestCopy = copy ? latestCopyOf(copy) : undefined;
  const made = {
    ...(res?.newVersion !== undefined ? { newVersion: res.newVersion } : {}),
    reused: res?.reused ?? false,
    madeDefault: res?.madeDefault ?? false,
    ...(latestCopy ? { latestCopy } : {}),
    ...(res?.requestId ? { requestId: res.requestId } : {}),
  };
  if (res?.newVersion === undefined)
    return { ...made, rolledOut: false, error: res?.error ?? { name: 'Unknown', message: 'no version was created' }, failedStep: 'create' };
  if (copy?.error) return { ...made, rolledOut: false, error: copy.error, failedStep: 'latest' };
  if (res.error) return { ...made, rolledOut: false, error: res.error, failedStep: 'default' };
  if (!rollout) return { ...made, rolledOut: false };
  if (f.nodegroup.status !== 'ACTIVE') return { ...made, rolledOut: false, rolloutWaiting: true };
  try {
    const u = await updateNodegroupVersion(eks, f.nodegroup.cluster, f.nodegroup.name, { id: t.id, version: res.newVersion });
    return {
      ...made,
      rolledOut: true,
      ...(u.updateId ? { updateId: u.updateId } : {}),
      ...(u.requestId ? { requestId: u.requestId } : {}),
    };
  } catch (err) {
    return { ...made, rolledOut: false, error: errorOf(err), failedStep: 'rollout' };
  }
}

/** describe (pure): the audit record for one node group. */
export function describe(
  f: Pick<FoundNodegroup, 'region' | 'account'> & { nodegroup: Pick<NodegroupInfo, 'cluster' | 'name' | 'tags'> & { arn?: string } },
  s: Settings,
  tags: Tags,
  facts: AuditFacts,
): AuditRecord {
  const ng = f.nodegroup;
  return recordFor(
    {
      type: 'nodegroup',
      id: ng.name,
      arn: ng.arn ?? arn(f.region, 'eks', f.account, `nodegroup/${ng.cluster ?? 'unknown'}/${ng.name}`),
      region: f.region,
      account: f.account,
      cluster: ng.cluster,
      nodegroup: ng.name,
      owner: resolveOwner({ ...tags, ...ng.tags }, s.ownerTagKeys, s.defaultOwner),
    },
    facts,
  );
}
