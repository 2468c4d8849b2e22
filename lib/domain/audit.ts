// AuditRecord: one per resource decision. Versioned, because owners' tooling parses it.
// Defined once, as a zod schema: producers build it, notify-slack validates what SNS delivers against it.
// zod/mini: classic zod adds ~440 KB to every bundle.
import * as z from 'zod/mini';
import { TriggerSchema } from './cloudtrail.js';
import { MetadataOptionsSchema } from './policy.js';
import { partitionOf } from './region.js';

export const AUDIT_SCHEMA = 'imds-guard.audit/v1' as const;

/**
 * Every outcome, ordered from most to least urgent (summaries, counts lines, message attributes).
 * `reported`: not changed by design (EKS-created template, node group awaiting rollout): owners must act.
 */
export const OUTCOME_ORDER = [
  'failed',
  'reported',
  'would-remediate',
  'remediated',
  'exempt',
  'gone',
  'compliant',
  'out-of-scope',
] as const;
export const OutcomeSchema = z.enum(OUTCOME_ORDER);
export type Outcome = z.infer<typeof OutcomeSchema>;

/** Outcomes with nothing to tell: left out of owner messages by default and hidden from the CLI table. */
export const QUIET_OUTCOMES: readonly Outcome[] = ['compliant', 'out-of-scope'];

const SeveritySchema = z.enum(['info', 'low', 'medium', 'high']);
export type Severity = z.infer<typeof SeveritySchema>;

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

const ResourceTypeSchema = z.enum(['instance', 'launch-template', 'nodegroup', 'account-defaults']);
export type ResourceType = z.infer<typeof ResourceTypeSchema>;

const nonEmpty = () => z.string().check(z.minLength(1));

const AuditResourceSchema = z.object({
  type: ResourceTypeSchema,
  id: nonEmpty(),
  arn: z.string(),
  region: z.string(),
  account: z.string(),
  cluster: z.optional(z.string()),
  nodegroup: z.optional(z.string()),
  owner: nonEmpty(),
  name: z.optional(z.string()),
});
export type AuditResource = z.infer<typeof AuditResourceSchema>;

/** Unknown fields are dropped on parse, not rejected: newer producers may add some. */
export const AuditRecordSchema = z.object({
  schema: z.literal(AUDIT_SCHEMA),
  /** Unique per record of a trigger and deterministic (see recordId), so consumers can dedupe retries on it. */
  id: z.string(),
  time: z.string(),
  mode: z.enum(['enforce', 'dry-run']),
  trigger: TriggerSchema,
  resource: AuditResourceSchema,
  before: z.optional(MetadataOptionsSchema),
  after: z.optional(MetadataOptionsSchema),
  desired: z.optional(MetadataOptionsSchema),
  outcome: OutcomeSchema,
  severity: SeveritySchema,
  violations: z._default(z.array(z.string()), []),
  reason: z.optional(z.string()),
  error: z.optional(z.object({ name: z.string(), message: z.string() })),
  requestId: z.optional(z.string()),
  /** Extra facts for the owner: identity readiness, rollout commands, created template versions. */
  details: z.optional(z.record(z.string(), z.unknown())),
  notes: z.optional(z.array(z.string())),
  /** Set only on a copy shortened to fit one SNS message; the audit log line holds the full record. */
  truncated: z.optional(z.literal(true)),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

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
function recordId(input: Pick<RecordInput, 'trigger' | 'resource' | 'details'>): string {
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

/**
 * The first of a message's records, whose trigger and mode the whole message shares; a message is only
 * ever rendered for a non-empty group, so an empty one is a broken invariant, not a case to render.
 *
 * @example
 * firstRecord([record]).trigger.eventId // record.trigger.eventId
 */
export function firstRecord(records: readonly AuditRecord[]): AuditRecord {
  const [first] = records;
  if (!first) throw new Error('invariant: a message is rendered from at least one audit record');
  return first;
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
export type AuditFacts = Pick<AuditRecord, 'trigger' | 'mode' | 'outcome'> &
  Partial<Pick<AuditRecord, 'before' | 'after' | 'desired' | 'violations' | 'reason' | 'error' | 'requestId' | 'notes' | 'details'>>;

export function recordFor(resource: AuditResource, f: AuditFacts): AuditRecord {
  // Drop unset fields and empty notes so records stay small; `violations` is always present.
  const { notes, ...rest } = f;
  const set = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Omit<AuditFacts, 'notes'>;
  return buildRecord({ ...set, ...(notes?.length ? { notes } : {}), resource });
}
