// AuditRecord: one per resource decision. Versioned, because owners' tooling parses it. The record is
// defined once, as a zod schema in ./audit-schema.ts (types inferred from it); notify-slack validates what
// SNS delivers against it. Producers only need the types, so the schema stays out of their bundles.
import type { AuditRecord, AuditResource } from './audit-schema.js';
import { AUDIT_SCHEMA, OUTCOME_ORDER, severityOf, type Outcome } from './audit-vocabulary.js';
import { partitionOf } from './region.js';

export type { AuditRecord, AuditResource, ResourceType } from './audit-schema.js';
export { AUDIT_SCHEMA, OUTCOME_ORDER, OutcomeSchema, QUIET_OUTCOMES, severityOf } from './audit-vocabulary.js';
export type { Outcome, Severity } from './audit-vocabulary.js';

/**
 * An ARN in the Region's partition: each kind builds its resources' ARNs with it.
 *
 * @example
 * arn('cn-north-1', 'ec2', '111122223333', 'instance/i-0abc') // 'arn:aws-cn:ec2:cn-north-1:111122223333:instance/i-0abc'
 */
export function arn(region: string, service: string, account: string, resource: string): string {
  return `arn:${partitionOf(region)}:${service}:${region}:${account}:${resource}`;
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
