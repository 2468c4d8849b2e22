// The instance resource kind: find, evaluate, remediate, describe in the audit.
import type { EC2Client } from '@aws-sdk/client-ec2';
import { describeInstances, modifyMetadataOptions } from '../aws/ec2-instances.js';
import { arnFor, recordFor, type AuditFacts, type AuditRecord, type Outcome } from '../core/audit.js';
import type { InstanceTarget } from '../core/instance-events.js';
import {
  applyRemediation,
  describeViolations,
  evaluate as evaluatePolicy,
  planRemediation,
  type MetadataOptions,
  type Policy,
  type Remediation,
} from '../core/metadata-options.js';
import { decideScope, resolveOwner, type NodeIdentity, type ScopeConfig } from '../core/scope.js';
import type { Tags } from '../core/tags.js';

/** A target whose options and tags are known. */
export interface KnownInstance extends InstanceTarget {
  metadataOptions: MetadataOptions;
  tags: Tags;
}

export interface FindResult {
  known: KnownInstance[];
  gone: InstanceTarget[];
}

/** find: fill in what the event did not carry, describing only the missing instances. */
export async function find(ec2: EC2Client, targets: InstanceTarget[]): Promise<FindResult> {
  const missing = targets.filter((t) => !t.metadataOptions || !t.tags).map((t) => t.instanceId);
  const described = missing.length ? await describeInstances(ec2, [...new Set(missing)]) : new Map();
  const known: KnownInstance[] = [];
  const gone: InstanceTarget[] = [];
  for (const t of targets) {
    if (t.metadataOptions && t.tags) {
      known.push(t as KnownInstance);
      continue;
    }
    const d = described.get(t.instanceId);
    if (!d || d.state === 'terminated' || d.state === 'shutting-down') gone.push(t);
    else known.push({ ...t, metadataOptions: t.metadataOptions ?? d.metadataOptions, tags: { ...d.tags, ...t.tags } });
  }
  return { known, gone };
}

export interface InstanceSettings extends ScopeConfig {
  ownerTagKeys: string[];
  defaultOwner: string;
}

export type Decision =
  | { action: 'skip'; outcome: Extract<Outcome, 'out-of-scope' | 'exempt' | 'compliant'>; node: NodeIdentity; reason: string }
  | { action: 'remediate'; node: NodeIdentity; remediation: Remediation; violations: string[] };

/** evaluate (pure): scope, exemptions, then the policy. */
export function evaluate(i: KnownInstance, policy: Policy, s: ScopeConfig): Decision {
  const scope = decideScope(i.tags, s);
  if (scope.action !== 'enforce') return { action: 'skip', outcome: scope.action, node: scope.node, reason: scope.reason };
  const ev = evaluatePolicy(i.metadataOptions, policy);
  if (ev.compliant) return { action: 'skip', outcome: 'compliant', node: scope.node, reason: 'MetadataOptions meet the policy' };
  return { action: 'remediate', node: scope.node, remediation: planRemediation(i.metadataOptions, policy), violations: describeViolations(ev.violations) };
}

export interface InstanceFacts extends AuditFacts {
  node?: NodeIdentity;
}

/** describe (pure): the audit record for one instance. */
export function describe(i: InstanceTarget & { tags?: Tags }, s: InstanceSettings, { node, ...f }: InstanceFacts): AuditRecord {
  const tags = i.tags ?? {};
  return recordFor(
    {
      type: 'instance',
      id: i.instanceId,
      arn: arnFor('instance', i.region, i.account, i.instanceId),
      region: i.region,
      account: i.account,
      ...(node?.cluster ? { cluster: node.cluster } : {}),
      ...(node?.nodegroup ? { nodegroup: node.nodegroup } : {}),
      owner: resolveOwner(tags, s.ownerTagKeys, s.defaultOwner),
      ...(tags.Name ? { name: tags.Name } : {}),
    },
    f,
  );
}

export type RemediateResult =
  | { outcome: 'remediated'; after: MetadataOptions; requestId?: string }
  | { outcome: 'gone'; reason: string }
  | { outcome: 'failed'; error: { name: string; message: string }; requestId?: string };

/** remediate: one ModifyInstanceMetadataOptions call; the SDK retries throttling and pending state. */
export async function remediate(ec2: EC2Client, i: KnownInstance, r: Remediation): Promise<RemediateResult> {
  try {
    const res = await modifyMetadataOptions(ec2, i.instanceId, r);
    // The response echoes the new values while State is pending; fall back to our prediction.
    const predicted = applyRemediation(i.metadataOptions, r);
    return { outcome: 'remediated', after: { ...predicted, ...res.applied }, ...(res.requestId ? { requestId: res.requestId } : {}) };
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { requestId?: string } };
    if (e.name === 'InvalidInstanceID.NotFound') return { outcome: 'gone', reason: 'instance no longer exists (terminated)' };
    return {
      outcome: 'failed',
      error: { name: e.name ?? 'Error', message: e.message ?? String(err) },
      ...(e.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}),
    };
  }
}
