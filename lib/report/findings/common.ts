// What the ASFF and OCSF mappings share: the control, the verdict per outcome, the fix text. Pure: no SDK imports.
import type { AuditRecord, Severity } from '../../domain/audit.js';
import type { MetadataOptions } from '../../domain/policy.js';
import { partitionOf } from '../../domain/region.js';

/** The one check imds-guard makes: IMDSv2 required and the hop limit at most the policy's maximum. */
export const CONTROL_ID = 'imdsv2-hop-limit';
export const PRODUCT_NAME = 'imds-guard';
/** The AWS controls this check covers (and goes beyond: neither checks the hop limit). */
export const RELATED_CONTROLS: Readonly<Record<string, string>> = { instance: 'EC2.8', 'launch-template': 'EC2.170' };

export type ComplianceStatus = 'PASSED' | 'FAILED' | 'WARNING' | 'NOT_AVAILABLE';
export type WorkflowStatus = 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED';

export interface Verdict {
  compliance: ComplianceStatus;
  workflow: WorkflowStatus;
  recordState: 'ACTIVE' | 'ARCHIVED';
}

const PASSED: Verdict = { compliance: 'PASSED', workflow: 'RESOLVED', recordState: 'ACTIVE' };
const FAILED: Verdict = { compliance: 'FAILED', workflow: 'NEW', recordState: 'ACTIVE' };
const VERDICTS: Readonly<Record<string, Verdict>> = {
  remediated: PASSED,
  compliant: PASSED,
  'would-remediate': FAILED,
  failed: FAILED,
  // Put back to its recorded "before" on request: out of policy again, and nobody has been asked to act yet.
  reverted: FAILED,
  reported: { ...FAILED, workflow: 'NOTIFIED' },
  exempt: { compliance: 'WARNING', workflow: 'NOTIFIED', recordState: 'ACTIVE' },
  gone: { compliance: 'NOT_AVAILABLE', workflow: 'RESOLVED', recordState: 'ARCHIVED' },
  'out-of-scope': { compliance: 'NOT_AVAILABLE', workflow: 'SUPPRESSED', recordState: 'ARCHIVED' },
};

/**
 * The finding's state for an outcome.
 * - `remediated` / `compliant` -> PASSED, RESOLVED: the resource now meets the control.
 * - `would-remediate` / `failed` -> FAILED, NEW: the resource is still out of policy (a dry run changed nothing,
 *   a failed call left it as it was) and nobody has been asked to act yet.
 * - `reported` -> FAILED, NOTIFIED: still out of policy, and imds-guard leaves it to the owner by design
 *   (EKS-created template, node group awaiting rollout); the owner has been told.
 * - `exempt` -> WARNING, NOTIFIED: not evaluated against the control on purpose (an exemption tag), which is
 *   neither a pass nor a fail; the owner chose it.
 * - `gone` -> NOT_AVAILABLE, ARCHIVED: the resource no longer exists. `out-of-scope` -> NOT_AVAILABLE, ARCHIVED.
 * - An outcome this version does not know (a newer producer's, e.g. a revert) -> FAILED, NEW: never a false pass.
 * @example
 * verdictOf('reported') // { compliance: 'FAILED', workflow: 'NOTIFIED', recordState: 'ACTIVE' }
 */
export function verdictOf(outcome: string): Verdict {
  return VERDICTS[outcome] ?? FAILED;
}

export type SeverityLabel = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
const LABELS: Record<Severity, SeverityLabel> = { info: 'INFORMATIONAL', low: 'LOW', medium: 'MEDIUM', high: 'HIGH' };

/**
 * Severity from the record's severity, except that a pass is INFORMATIONAL (as Security Hub's own PASSED
 * control findings are): a remediated resource is not a low-severity problem.
 * @example
 * severityLabel(record) // 'MEDIUM' for a would-remediate record
 */
export function severityLabel(r: Pick<AuditRecord, 'outcome' | 'severity'>): SeverityLabel {
  return verdictOf(r.outcome).compliance === 'PASSED' ? 'INFORMATIONAL' : LABELS[r.severity];
}

/** The resource's MetadataOptions now: after an applied change, else as found (a dry run's `after` is a plan). */
export function currentOptions(r: AuditRecord): MetadataOptions | undefined {
  return r.mode === 'enforce' && r.after ? r.after : r.before;
}

/** `<type>/<id>`, with the cluster for node groups (their names are unique only per cluster). */
export function resourceKey(r: AuditRecord): string {
  const res = r.resource;
  return res.type === 'nodegroup' ? `nodegroup/${res.cluster ?? 'unknown'}/${res.id}` : `${res.type}/${res.id}`;
}

export function clusterArn(r: AuditRecord): string {
  const { region, account, cluster } = r.resource;
  return `arn:${partitionOf(region)}:eks:${region}:${account}:cluster/${cluster ?? 'unknown'}`;
}

export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

const NOUN: Record<AuditRecord['resource']['type'], string> = {
  instance: 'EC2 instance',
  'launch-template': 'EC2 launch template',
  nodegroup: 'EKS node group',
  'account-defaults': 'EC2 instance metadata defaults',
};

/** e.g. `EC2 instance i-0abc (web-1): IMDSv2 and hop limit`. */
export function titleOf(r: AuditRecord): string {
  const res = r.resource;
  const id = res.type === 'nodegroup' ? `${res.cluster ?? 'unknown'}/${res.id}` : res.id;
  return clip(`${NOUN[res.type] ?? res.type} ${id}${res.name ? ` (${res.name})` : ''}: IMDSv2 required and hop limit`, 256);
}

/** What was found, what imds-guard did and why, in one paragraph. */
export function descriptionOf(r: AuditRecord, max: number): string {
  const found = r.violations.length ? r.violations.join('; ') : 'meets the policy';
  const parts = [`imds-guard outcome: ${r.outcome} (${r.mode}).`, `Found: ${found}.`];
  if (r.reason) parts.push(`Why: ${r.reason}.`);
  if (r.error) parts.push(`Error: ${r.error.name}: ${r.error.message}.`);
  return clip(parts.join(' '), max);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length ? v : undefined);

function hopFlag(r: AuditRecord): string {
  // Under the identity gate's `hold` the desired options omit the hop limit: the fix must not set it either.
  const hop = r.desired ? r.desired.hopLimit : 1;
  return hop === undefined ? '' : ` --http-put-response-hop-limit ${hop}`;
}

/**
 * The exact fix (also on a pass: it is what was applied, and what to run if the resource drifts back).
 * For instances and account defaults the CLI command (never `--http-endpoint enabled`: an owner
 * who disabled IMDS keeps it off); for templates and node groups the recommendation or rollout command the
 * record carries, else the generic launch template change.
 * @example
 * recommendationOf(record) // 'aws ec2 modify-instance-metadata-options --region eu-west-1 --instance-id i-1 ...'
 */
export function recommendationOf(r: AuditRecord): string {
  const { type, id, region } = r.resource;
  const d = r.details ?? {};
  if (type === 'instance') {
    return `aws ec2 modify-instance-metadata-options --region ${region} --instance-id ${id} --http-tokens required${hopFlag(r)}`;
  }
  if (type === 'account-defaults') {
    return `aws ec2 modify-instance-metadata-defaults --region ${region} --http-tokens required${hopFlag(r)}`;
  }
  const given = str(d.rolloutCommand) ?? str(d.recommendation);
  if (given) return given;
  const lt = type === 'launch-template' ? id : str((d.launchTemplate as Record<string, unknown> | null)?.id);
  return (
    'Create a launch template version with MetadataOptions HttpTokens=required and HttpPutResponseHopLimit=1' +
    (lt ? ` (launch template ${lt})` : '') +
    (type === 'nodegroup' ? ', then update the node group to that version' : ' and make it the default version')
  );
}
