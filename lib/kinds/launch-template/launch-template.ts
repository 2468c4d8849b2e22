// The launch template resource kind: find, evaluate, remediate, describe in the audit. find and remediate
// are the EC2 effects node groups use too (lib/shell/template-fixes.ts); evaluate and describe are pure.
import { arn, recordFor, type AuditFacts, type AuditRecord, type Outcome } from '../../domain/audit.js';
import {
  isEksManaged,
  judgeVersions,
  launchesEksNodes,
  planTemplateFixes,
  type FoundTemplate,
  type TemplateFix,
  type VersionVerdict,
} from '../../domain/template-versions.js';
import type { Policy } from '../../domain/policy.js';
import { exemption, resolveOwner, type ScopeConfig, type Settings } from '../../domain/scope.js';
import type { Tags } from '../../domain/tags.js';

export { applyTemplateFixes as remediate, findTemplate as find } from '../../shell/template-fixes.js';

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
  const exempt = exemption(template.tags, cluster, s);
  if (exempt) return { action: 'skip', outcome: 'exempt', reason: exempt, ...base };
  const bad = verdicts.filter((v) => v.violations.length > 0);
  if (bad.length === 0) return { action: 'skip', outcome: 'compliant', reason: 'default and latest versions meet the policy', ...base };
  if (isEksManaged(template)) {
    return {
      action: 'report',
      reason:
        'EKS-created launch template: changing it would put the node group into Ec2LaunchTemplateVersionMismatch, ' +
        'so imds-guard leaves it and fixes its instances instead',
      recommendation:
        'Create the node group with a custom launch template that sets HttpTokens=required and HttpPutResponseHopLimit=1 ' +
        '(a node group cannot switch templates: create a new node group and move workloads)',
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

/** describe (pure): the audit record for one template. */
export function describe(
  ref: { id: string; name?: string; region: string; account: string; tags?: Tags },
  s: Settings,
  { cluster, ...f }: AuditFacts & { cluster?: string },
): AuditRecord {
  return recordFor(
    {
      type: 'launch-template',
      id: ref.id,
      arn: arn(ref.region, 'ec2', ref.account, `launch-template/${ref.id}`),
      region: ref.region,
      account: ref.account,
      ...(cluster ? { cluster } : {}),
      owner: resolveOwner(ref.tags ?? {}, s.ownerTagKeys, s.defaultOwner),
      ...(ref.name ? { name: ref.name } : {}),
    },
    f,
  );
}
