// AuditRecord: one per resource decision. Versioned, because owners' tooling parses it.
import type { Trigger } from './cloudtrail.js';
import type { MetadataOptions } from './policy.js';
import { partitionOf } from './region.js';

export const AUDIT_SCHEMA = 'imds-guard.audit/v1' as const;

export type ResourceType = 'instance' | 'launch-template' | 'nodegroup' | 'account-defaults';

export type Outcome =
  | 'remediated'
  | 'would-remediate'
  | 'compliant'
  | 'exempt'
  | 'out-of-scope'
  | 'gone'
  | 'failed'
  /** Not changed by design (EKS-created template, node group awaiting rollout): owners must act. */
  | 'reported';

export type Severity = 'info' | 'low' | 'medium' | 'high';

export interface AuditResource {
  type: ResourceType;
  id: string;
  arn: string;
  region: string;
  account: string;
  cluster?: string;
  nodegroup?: string;
  owner: string;
  name?: string;
}

export interface AuditRecord {
  schema: typeof AUDIT_SCHEMA;
  /** Unique per record of a trigger and deterministic (see recordId), so consumers can dedupe retries on it. */
  id: string;
  time: string;
  mode: 'enforce' | 'dry-run';
  trigger: Trigger;
  resource: AuditResource;
  before?: MetadataOptions;
  after?: MetadataOptions;
  desired?: MetadataOptions;
  outcome: Outcome;
  severity: Severity;
  violations: string[];
  reason?: string;
  error?: { name: string; message: string };
  requestId?: string;
  /** Extra facts for the owner: identity readiness, rollout commands, created template versions. */
  details?: Record<string, unknown>;
  notes?: string[];
  /** Set only on a copy shortened to fit one SNS message; the audit log line holds the full record. */
  truncated?: true;
}

const SEVERITY: Record<Outcome, Severity> = {
  failed: 'high',
  'would-remediate': 'medium',
  reported: 'medium',
  remediated: 'low',
  exempt: 'low',
  gone: 'info',
  compliant: 'info',
  'out-of-scope': 'info',
};

/** Outcomes ordered from most to least urgent, for summaries and message attributes. */
export const OUTCOME_ORDER: Outcome[] = [
  'failed',
  'reported',
  'would-remediate',
  'remediated',
  'exempt',
  'gone',
  'compliant',
  'out-of-scope',
];

export function severityOf(outcome: Outcome): Severity {
  return SEVERITY[outcome];
}

export function arnFor(type: ResourceType, region: string, account: string, id: string, cluster?: string): string {
  const aws = `arn:${partitionOf(region)}`;
  switch (type) {
    case 'instance':
      return `${aws}:ec2:${region}:${account}:instance/${id}`;
    case 'launch-template':
      return `${aws}:ec2:${region}:${account}:launch-template/${id}`;
    case 'nodegroup':
      return `${aws}:eks:${region}:${account}:nodegroup/${cluster ?? 'unknown'}/${id}`;
    case 'account-defaults':
      return `${aws}:ec2:${region}:${account}:instance-metadata-defaults`;
  }
}

export type RecordInput = Omit<AuditRecord, 'schema' | 'id' | 'time' | 'severity' | 'violations'> & {
  violations?: string[];
  time?: string;
};

/**
 * Node group names are unique only per cluster, and a launch template gets a record per fixed source
 * version, so both go into the id. No clock or randomness: a retried trigger yields the same ids.
 */
export function recordId(input: Pick<RecordInput, 'trigger' | 'resource' | 'details'>): string {
  const r = input.resource;
  const key = r.type === 'nodegroup' ? `nodegroup/${r.cluster ?? 'unknown'}/${r.id}` : r.id;
  const v = r.type === 'launch-template' ? input.details?.sourceVersion : undefined;
  return `${input.trigger.eventId}:${key}${typeof v === 'number' ? `:v${v}` : ''}`;
}

export function buildRecord(input: RecordInput): AuditRecord {
  return {
    schema: AUDIT_SCHEMA,
    id: recordId(input),
    time: input.time ?? new Date().toISOString(),
    severity: severityOf(input.outcome),
    violations: input.violations ?? [],
    ...input,
  };
}

export function worstOutcome(records: AuditRecord[]): Outcome {
  return OUTCOME_ORDER.find((o) => records.some((r) => r.outcome === o)) ?? 'compliant';
}

export function countByOutcome(records: AuditRecord[]): Partial<Record<Outcome, number>> {
  const out: Partial<Record<Outcome, number>> = {};
  for (const r of records) out[r.outcome] = (out[r.outcome] ?? 0) + 1;
  return out;
}

/** What a resource module knows about one decision; `recordFor` turns it into an AuditRecord. */
export interface AuditFacts {
  trigger: Trigger;
  mode: 'enforce' | 'dry-run';
  outcome: Outcome;
  before?: MetadataOptions;
  after?: MetadataOptions;
  desired?: MetadataOptions;
  violations?: string[];
  reason?: string;
  error?: { name: string; message: string };
  requestId?: string;
  notes?: string[];
  details?: Record<string, unknown>;
}

export function recordFor(resource: AuditResource, f: AuditFacts): AuditRecord {
  // Drop unset fields and empty notes so records stay small; `violations` is always present.
  const { notes, ...rest } = f;
  const set = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Omit<AuditFacts, 'notes'>;
  return buildRecord({ ...set, ...(notes?.length ? { notes } : {}), resource });
}
