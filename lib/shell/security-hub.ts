// Findings out (issue 15): audit records -> the account's own Security Hub integration, as ASFF. The mapping is
// pure (lib/report/findings/asff.ts); this module makes the calls, per Region (the product ARN names the Region).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import type { AuditRecord } from '../domain/audit.js';
import { SELF_NOTE_AUTHOR, type FindingRef } from '../domain/finding-event.js';
import type { FindingClose } from '../report/findings/closing.js';
import { batches, toAsff, type AsffFinding } from '../report/findings/asff.js';
import { logger, metrics } from './observability.js';

/** What one export did: findings accepted, findings Security Hub refused (each logged), workflow updates made. */
export interface FindingsSent {
  imported: number;
  failed: number;
  workflowUpdated: number;
}

/** The note's author on every BatchUpdateFindings imds-guard makes: the findings-in loop guard looks for it. */
const NOTE_AUTHOR = SELF_NOTE_AUTHOR;

const clients = new Map<string, SecurityHubClient>();
/** One client per Region, reused across invocations (like lib/shell/clients.ts). */
export function securityHubClient(region: string, maxAttempts = 6): SecurityHubClient {
  let c = clients.get(region);
  if (!c) {
    c = new SecurityHubClient({ region, retryMode: 'adaptive', maxAttempts });
    clients.set(region, c);
  }
  return c;
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

type Client = Pick<SecurityHubClient, 'send'>;

function failure(what: string, err: unknown, count: number): void {
  const e = err as Error;
  logger.error(`security hub: ${what} failed`, { securityHub: { error: { name: e?.name, message: e?.message }, findings: count } });
  metrics.addMetric('findingsFailed', MetricUnit.Count, count);
}

async function importBatch(sh: Client, Findings: AsffFinding[], sent: FindingsSent): Promise<AsffFinding[]> {
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
    sent.failed += Findings.length;
    return [];
  }
}

/**
 * BatchImportFindings sets Workflow only when it creates a finding: an existing one is moved to RESOLVED
 * (remediated, compliant) or NOTIFIED (reported, exempt) here. NEW is never sent: Security Hub itself resets a
 * finding to NEW when its compliance goes from PASSED to FAILED, and a customer's SUPPRESSED stays.
 */
async function updateWorkflow(sh: Client, imported: AsffFinding[], sent: FindingsSent): Promise<void> {
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
      }
    }
  }
}

/**
 * Send records to Security Hub as the account's own findings: batches of at most 100 per Region, each refused
 * finding logged and counted (`findingsFailed`), never thrown: the remediation has happened, and a Security Hub
 * that is off or denied must not fail (and so repeat) the run.
 * @example
 * const sent = await sendFindings(records); // { imported: 3, failed: 0, workflowUpdated: 2 }
 */
export async function sendFindings(
  records: AuditRecord[],
  clientFor: (region: string) => Client = securityHubClient,
): Promise<FindingsSent> {
  const sent: FindingsSent = { imported: 0, failed: 0, workflowUpdated: 0 };
  const byRegion = new Map<string, AsffFinding[]>();
  for (const f of findingsOf(records)) byRegion.set(f.Region, [...(byRegion.get(f.Region) ?? []), f]);
  for (const [region, findings] of byRegion) {
    const sh = clientFor(region);
    for (const batch of batches(findings)) {
      const ok = await importBatch(sh, batch, sent);
      await updateWorkflow(sh, ok, sent);
    }
  }
  if (sent.imported) metrics.addMetric('findingsImported', MetricUnit.Count, sent.imported);
  return sent;
}

// OCSF status_id (BatchUpdateFindingsV2): 2 In Progress (ASFF NOTIFIED), 4 Resolved.
const V2_STATUS = { NOTIFIED: 2, RESOLVED: 4 } as const;

/**
 * Findings in: write the outcome back on the AWS control finding that triggered the evaluation. ASFF findings
 * take BatchUpdateFindings (Workflow + Note, UpdatedBy imds-guard), OCSF ones BatchUpdateFindingsV2 (StatusId +
 * Comment). Returns whether Security Hub processed it; a refusal or an error is logged and counted, not thrown.
 * @example
 * await closeFinding(securityHubClient('eu-west-1'), target.ref, { workflow: 'RESOLVED', note: 'imds-guard: remediated i-0abc' });
 */
export async function closeFinding(sh: Client, ref: FindingRef, close: FindingClose): Promise<boolean> {
  try {
    if (ref.format === 'asff') {
      const res = await sh.send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: [{ Id: ref.Id, ProductArn: ref.ProductArn }],
          ...(close.workflow ? { Workflow: { Status: close.workflow } } : {}),
          Note: { Text: close.note, UpdatedBy: NOTE_AUTHOR },
        }),
      );
      return processed(ref, res.UnprocessedFindings ?? []);
    }
    const { format: _, ...id } = ref;
    const res = await sh.send(
      new BatchUpdateFindingsV2Command({
        FindingIdentifiers: [id],
        Comment: close.note,
        ...(close.workflow ? { StatusId: V2_STATUS[close.workflow] } : {}),
      }),
    );
    return processed(ref, res.UnprocessedFindings ?? []);
  } catch (err) {
    failure(ref.format === 'asff' ? 'BatchUpdateFindings' : 'BatchUpdateFindingsV2', err, 1);
    return false;
  }
}

function processed(ref: FindingRef, unprocessed: { ErrorCode?: string; ErrorMessage?: string }[]): boolean {
  for (const u of unprocessed) {
    logger.error('security hub: finding not updated', {
      securityHub: { finding: ref, errorCode: u.ErrorCode, errorMessage: u.ErrorMessage },
    });
    metrics.addMetric('findingsFailed', MetricUnit.Count, 1);
  }
  return unprocessed.length === 0;
}
