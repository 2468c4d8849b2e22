// The launch template resource kind: find, evaluate, remediate, describe in the audit.
import type { EC2Client } from '@aws-sdk/client-ec2';
import {
  createFixedVersion,
  describeTemplate,
  describeVersionRange,
  describeVersions,
  setDefaultVersion,
} from '../../shell/template-versions.js';
import { arnFor, recordFor, type AuditFacts, type AuditRecord, type Outcome } from '../../domain/audit.js';
import {
  isEksManaged,
  judgeVersions,
  launchesEksNodes,
  planTemplateFixes,
  type TemplateFix,
  type TemplateInfo,
  type TemplateVersion,
  type VersionVerdict,
} from '../../domain/template-versions.js';
import { evaluate as evaluatePolicy, type Policy } from '../../domain/policy.js';
import { resolveOwner, type ScopeConfig } from '../../domain/scope.js';
import type { Tags } from '../../domain/tags.js';
import type { InstanceSettings } from '../instance/instance.js';
import { errorOf } from '../../domain/errors.js';

export interface FoundTemplate {
  template: TemplateInfo;
  versions: TemplateVersion[];
  region: string;
  account: string;
}

/** find: the template and its default, latest and affected versions. */
export async function find(
  ec2: EC2Client,
  ref: { id?: string; name?: string; region: string; account: string; version?: number },
): Promise<FoundTemplate | undefined> {
  const template = await describeTemplate(ec2, ref);
  if (!template) return undefined;
  const wanted = [template.defaultVersion, template.latestVersion, ...(ref.version ? [ref.version] : [])];
  return { template, versions: await describeVersions(ec2, template.id, wanted), region: ref.region, account: ref.account };
}

/** Most recent versions after `from` that planning looks at (earlier fixes to reuse): one page. */
const HISTORY = 200;

/** Adds the versions after `from` (up to the latest) that still exist, for reuse of earlier fixes. */
export async function withVersionsAfter(ec2: EC2Client, f: FoundTemplate, from: number): Promise<FoundTemplate> {
  const to = f.template.latestVersion;
  const later = await describeVersionRange(ec2, f.template.id, Math.max(from + 1, to - HISTORY + 1), to);
  const byVersion = new Map([...f.versions, ...later].map((v) => [v.version, v]));
  return { ...f, versions: [...byVersion.values()].sort((a, b) => a.version - b.version) };
}

/** A bad default older than the latest: its fix may exist already, and it will bury the latest. */
export function needsHistory(f: FoundTemplate, policy: Policy): boolean {
  const { defaultVersion, latestVersion } = f.template;
  const d = f.versions.find((v) => v.version === defaultVersion);
  return defaultVersion < latestVersion && !evaluatePolicy(d?.metadataOptions ?? {}, policy).compliant;
}

export type TemplateDecision =
  | {
      action: 'skip';
      outcome: Extract<Outcome, 'out-of-scope' | 'exempt' | 'compliant'>;
      reason: string;
      verdicts: VersionVerdict[];
      cluster?: string;
    }
  | { action: 'report'; reason: string; verdicts: VersionVerdict[]; cluster?: string; recommendation: string }
  | { action: 'fix'; fixes: TemplateFix[]; verdicts: VersionVerdict[]; cluster?: string };

/** evaluate (pure). `usedBy` lists node groups known to reference the template. */
export function evaluate(
  f: FoundTemplate,
  policy: Policy,
  s: ScopeConfig,
  usedBy: { cluster: string; nodegroup: string }[] = [],
  affected?: number,
): TemplateDecision {
  const { template } = f;
  const verdicts = judgeVersions(template, f.versions, policy, affected);
  const eks = launchesEksNodes(template, f.versions);
  const cluster = eks.cluster ?? usedBy[0]?.cluster;
  const base = { verdicts, ...(cluster ? { cluster } : {}) };
  if (s.scope === 'eks' && !eks.eks && usedBy.length === 0)
    return { action: 'skip', outcome: 'out-of-scope', reason: 'not used by EKS nodes (scope=eks)', ...base };
  const exemptValue = template.tags[s.exemptTagKey];
  if (exemptValue !== undefined && exemptValue.toLowerCase() === s.exemptTagValue.toLowerCase()) {
    return { action: 'skip', outcome: 'exempt', reason: `tag ${s.exemptTagKey}=${exemptValue}`, ...base };
  }
  if (cluster && s.exemptClusters.includes(cluster))
    return { action: 'skip', outcome: 'exempt', reason: `cluster ${cluster} is in EXEMPT_CLUSTERS`, ...base };
  const bad = verdicts.filter((v) => v.violations.length > 0);
  if (bad.length === 0) return { action: 'skip', outcome: 'compliant', reason: 'default and latest versions meet the policy', ...base };
  if (isEksManaged(template)) {
    return {
      action: 'report',
      reason:
        'EKS-created launch template: changing it would put the node group into Ec2LaunchTemplateVersionMismatch, so imds-guard leaves it and fixes its instances instead',
      recommendation:
        'Create the node group with a custom launch template that sets HttpTokens=required and HttpPutResponseHopLimit=1 (a node group cannot switch templates: create a new node group and move workloads)',
      ...base,
    };
  }
  const fixes = planTemplateFixes(verdicts, policy, f.versions);
  if (fixes.length === 0) {
    return {
      action: 'report',
      reason: `only version(s) ${bad.map((b) => b.version).join(', ')} are out of policy; neither default nor latest`,
      recommendation: 'Move anything pinned to those versions to a compliant one',
      ...base,
    };
  }
  return { action: 'fix', fixes, ...base };
}

/** What an audit reason says of the old $Latest created again as `newVersion` (templates and node groups alike). */
export function latestCopyNote(copy: Pick<TemplateFix, 'sourceVersion' | 'violations'>, newVersion: number): string {
  return `; version ${newVersion} repeats version ${copy.sourceVersion}${copy.violations.length ? ' (fixed)' : ''} so $Latest keeps its content`;
}

export interface FixResult {
  sourceVersion: number;
  kind: TemplateFix['kind'];
  /** The version created, or reused from an earlier run; set even when a later step failed. */
  newVersion?: number;
  reused: boolean;
  madeDefault: boolean;
  requestId?: string;
  error?: { name: string; message: string };
}

/**
 * remediate: every version first, in plan order (the old $Latest's copy last), then the default. The first
 * failure stops the rest and leaves the default alone: a retry reuses what was made and finishes the job.
 */
export async function remediate(ec2: EC2Client, t: TemplateInfo, fixes: TemplateFix[]): Promise<FixResult[]> {
  const results: FixResult[] = [];
  let failure: string | undefined;
  for (const fix of fixes) {
    const base = { sourceVersion: fix.sourceVersion, kind: fix.kind, madeDefault: false };
    if (failure) {
      results.push({ ...base, reused: false, error: { name: 'NotAttempted', message: failure } });
    } else if (fix.reuse !== undefined) {
      results.push({ ...base, newVersion: fix.reuse, reused: true });
    } else {
      try {
        const created = await createFixedVersion(ec2, t.id, fix.sourceVersion, fix.metadataOptions, fix.description);
        results.push({
          ...base,
          newVersion: created.version,
          reused: false,
          ...(created.requestId ? { requestId: created.requestId } : {}),
        });
      } catch (err) {
        const error = errorOf(err);
        failure = `not attempted: creating a version from ${fix.sourceVersion} failed (${error.name})`;
        results.push({ ...base, reused: false, error });
      }
    }
  }
  const i = fixes.findIndex((f) => f.makeDefault);
  const r = results[i];
  if (r?.newVersion !== undefined) {
    if (failure) {
      r.error ??= {
        name: 'DefaultNotSet',
        message: `version ${r.newVersion} was not made the default: ${failure.replace('not attempted: ', '')}`,
      };
    } else {
      try {
        await setDefaultVersion(ec2, t.id, r.newVersion);
        r.madeDefault = true;
      } catch (err) {
        r.error = errorOf(err);
      }
    }
  }
  return results;
}

export function ownerTags(f: Pick<FoundTemplate, 'template' | 'versions'>): Tags {
  return Object.assign({}, ...f.versions.map((v) => v.instanceTags), f.template.tags);
}

/** describe (pure): the audit record for one template. */
export function describe(
  ref: { id: string; name?: string; region: string; account: string; tags?: Tags },
  s: InstanceSettings,
  { cluster, ...f }: AuditFacts & { cluster?: string },
): AuditRecord {
  return recordFor(
    {
      type: 'launch-template',
      id: ref.id,
      arn: arnFor('launch-template', ref.region, ref.account, ref.id),
      region: ref.region,
      account: ref.account,
      ...(cluster ? { cluster } : {}),
      owner: resolveOwner(ref.tags ?? {}, s.ownerTagKeys, s.defaultOwner),
      ...(ref.name ? { name: ref.name } : {}),
    },
    f,
  );
}
