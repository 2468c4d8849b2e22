// The audit vocabulary: the schema name, the outcomes (in their order of urgency) and their severity. Small and
// runtime-only, so every bundle can use it without carrying the record's zod schema (lib/domain/audit-schema.ts).
import * as z from 'zod/mini';

export const AUDIT_SCHEMA = 'imds-guard.audit/v1' as const;

/**
 * Every outcome, ordered from most to least urgent (summaries, counts lines, message attributes).
 * `reported`: not changed by design (EKS-created template, node group awaiting rollout): owners must act.
 * `reverted`: put back to its recorded "before" on request (`imds-guard revert`), which may re-enable IMDSv1.
 */
export const OUTCOME_ORDER = [
  'failed',
  'reverted',
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

export const SEVERITIES = ['info', 'low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

const SEVERITY: Record<Outcome, Severity> = {
  failed: 'high',
  reverted: 'high',
  'would-remediate': 'medium',
  reported: 'medium',
  remediated: 'low',
  exempt: 'low',
  gone: 'info',
  compliant: 'info',
  'out-of-scope': 'info',
};

/**
 * @example
 * severityOf('failed') // 'high'
 */
export function severityOf(outcome: Outcome): Severity {
  return SEVERITY[outcome];
}
