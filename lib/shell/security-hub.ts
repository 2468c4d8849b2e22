// Findings out (issue 15): audit records -> the account's own Security Hub integration, as ASFF. The mapping is
// pure (lib/report/findings/asff.ts); this module makes the calls, per Region (the product ARN names the Region).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { BatchImportFindingsCommand, BatchUpdateFindingsCommand } from '@aws-sdk/client-securityhub';
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import type { AuditRecord } from '../domain/audit.js';
import { batches, toAsff, type AsffFinding } from '../report/findings/asff.js';
import { logger, metrics } from './observability.js';
import { failure, NOTE_AUTHOR, securityHubClient, type SecurityHubSender as Client } from './security-hub-update.js';

/** What one export did: findings accepted, findings Security Hub refused (each logged), workflow updates made. */
export interface FindingsSent {
  imported: number;
  failed: number;
  workflowUpdated: number;
}

/**
 * The findings to import: one per finding ID (the last record for a resource wins) and none for records that
 * were never checked against the control (`out-of-scope`: a sweep would otherwise archive a finding for every
 * non-EKS instance, every run).
 */
export function findingsOf(records: AuditRecord[]): AsffFinding[] {
  const byId = new Map<string, AsffFinding>();
  for (const r of records) {
    if (r.outcome === 'out-of-scope') continue;
    const f = toAsff(r);
    const seen = byId.get(f.Id);
    if (!seen || seen.UpdatedAt <= f.UpdatedAt) byId.set(f.Id, f);
  }
  return [...byId.values()];
}

async function importBatch(sh: Client, Findings: AsffFinding[], sent: FindingsSent, errors: unknown[]): Promise<AsffFinding[]> {
  try {
    const res = await sh.send(new BatchImportFindingsCommand({ Findings: Findings as AwsSecurityFinding[] }));
    const refused = new Set<string>();
    for (const f of res.FailedFindings ?? []) {
      refused.add(f.Id ?? '');
      logger.error('security hub: finding refused', { securityHub: { id: f.Id, errorCode: f.ErrorCode, errorMessage: f.ErrorMessage } });
    }
    const failed = res.FailedCount ?? refused.size;
    if (failed) metrics.addMetric('findingsFailed', MetricUnit.Count, failed);
    sent.failed += failed;
    const ok = Findings.filter((f) => !refused.has(f.Id));
    sent.imported += ok.length;
    return ok;
  } catch (err) {
    failure('BatchImportFindings', err, Findings.length);
    errors.push(err);
    sent.failed += Findings.length;
    return [];
  }
}

/**
 * BatchImportFindings sets Workflow only when it creates a finding: an existing one is moved to RESOLVED
 * (remediated, compliant) or NOTIFIED (reported, exempt) here. NEW is never sent: Security Hub itself resets a
 * finding to NEW when its compliance goes from PASSED to FAILED, and a customer's SUPPRESSED stays.
 */
async function updateWorkflow(sh: Client, imported: AsffFinding[], sent: FindingsSent, errors: unknown[]): Promise<void> {
  // One call per status and outcome: the note says which outcome moved the finding.
  const groups = new Map<string, AsffFinding[]>();
  for (const f of imported) {
    if (f.Workflow.Status !== 'RESOLVED' && f.Workflow.Status !== 'NOTIFIED') continue;
    const key = `${f.Workflow.Status}\n${f.ProductFields['imds-guard/outcome']}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const [key, list] of groups) {
    const [status, outcome] = key.split('\n') as [string, string];
    for (const batch of batches(list)) {
      const note = { Text: `imds-guard: ${outcome}`, UpdatedBy: NOTE_AUTHOR };
      try {
        const res = await sh.send(
          new BatchUpdateFindingsCommand({
            FindingIdentifiers: batch.map((f) => ({ Id: f.Id, ProductArn: f.ProductArn })),
            Workflow: { Status: status as 'RESOLVED' | 'NOTIFIED' },
            Note: note,
          }),
        );
        for (const u of res.UnprocessedFindings ?? []) {
          logger.error('security hub: workflow not updated', { securityHub: { id: u.FindingIdentifier?.Id, errorCode: u.ErrorCode } });
        }
        sent.workflowUpdated += res.ProcessedFindings?.length ?? 0;
      } catch (err) {
        failure('BatchUpdateFindings', err, batch.length);
        errors.push(err);
      }
    }
  }
}

/** Thrown by sendFindings({ throwOnCallFailure }) after every batch was tried: a call (not a finding) failed. */
export class FindingsCallError extends Error {
  override name = 'FindingsCallError';
  constructor(
    readonly sent: FindingsSent,
    readonly errors: unknown[],
  ) {
    super(`security hub: ${errors.length} call(s) failed (${sent.imported} finding(s) imported, ${sent.failed} not)`);
  }
}

export interface SendOptions {
  /** Throw a FindingsCallError when a call failed (publish-findings: SNS/Lambda retry, then the DLQ keeps it). */
  throwOnCallFailure?: boolean;
}

/**
 * Send records to Security Hub as the account's own findings: batches of at most 100 per Region, each refused
 * finding (FailedFindings) logged and counted (`findingsFailed`), never thrown: a retry would be refused the
 * same way. A failed call is logged and counted too; with `throwOnCallFailure` it then throws (after every
 * batch was tried), so the caller's invocation fails and is retried.
 * @example
 * const sent = await sendFindings(records); // { imported: 3, failed: 0, workflowUpdated: 2 }
 */
export async function sendFindings(
  records: AuditRecord[],
  clientFor: (region: string) => Client = securityHubClient,
  opts: SendOptions = {},
): Promise<FindingsSent> {
  const sent: FindingsSent = { imported: 0, failed: 0, workflowUpdated: 0 };
  const errors: unknown[] = [];
  const byRegion = new Map<string, AsffFinding[]>();
  for (const f of findingsOf(records)) byRegion.set(f.Region, [...(byRegion.get(f.Region) ?? []), f]);
  for (const [region, findings] of byRegion) {
    const sh = clientFor(region);
    for (const batch of batches(findings)) {
      const ok = await importBatch(sh, batch, sent, errors);
      await updateWorkflow(sh, ok, sent, errors);
    }
  }
  if (sent.imported) metrics.addMetric('findingsImported', MetricUnit.Count, sent.imported);
  if (opts.throwOnCallFailure && errors.length) throw new FindingsCallError(sent, errors);
  return sent;
}
