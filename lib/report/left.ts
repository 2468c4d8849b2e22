// What is left out of policy after a run: what makes scan (and --fail-on) exit 1. Pure.
import type { AuditRecord } from '../domain/audit.js';

/** `--fail-on`: `any` (default) fails on everything left out of policy in scope, `fixable` only on what imds-guard can fix. */
export type FailOn = 'any' | 'fixable';

/**
 * Left out of policy in scope. `fixable`: a record `would-remediate` (scan, dry run, declined enforce) or `failed`;
 * `any` adds `reported` (EKS-created templates, node groups awaiting a rollout, account defaults: an owner must
 * act). `exempt` resources are out of scope by an owner's choice, and never fail the command.
 *
 * @example
 * leftNonCompliant(record, 'any'); // true for a reported EKS-created template at tokens=optional
 */
export function leftNonCompliant(r: AuditRecord, failOn: FailOn = 'any'): boolean {
  return r.outcome === 'would-remediate' || r.outcome === 'failed' || (failOn === 'any' && r.outcome === 'reported');
}
