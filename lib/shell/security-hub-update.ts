// Findings in (issue 15): the BatchUpdateFindings(V2) path on its own, so the findings-in function's bundle
// carries neither BatchImportFindings nor its ASFF input schema (lib/shell/security-hub.ts has the import).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { BatchUpdateFindingsCommand, BatchUpdateFindingsV2Command, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SELF_NOTE_AUTHOR, type FindingRef } from '../domain/finding-event.js';
import type { FindingClose } from '../report/findings/closing.js';
import { cached } from './clients.js';
import { logger, metrics } from './observability.js';

/** The note's author on every BatchUpdateFindings imds-guard makes: the findings-in loop guard looks for it. */
export const NOTE_AUTHOR = SELF_NOTE_AUTHOR;

/** What the Security Hub calls need of a client (tests pass a fake). */
export type SecurityHubSender = Pick<SecurityHubClient, 'send'>;

/**
 * One client per Region, reused across invocations, in the shared client cache (lib/shell/clients.ts).
 * @example
 * const sh = securityHubClient('eu-west-1', config.MAX_ATTEMPTS);
 */
export function securityHubClient(region: string, maxAttempts = 6): SecurityHubClient {
  return cached(`securityhub:${region}`, () => new SecurityHubClient({ region, retryMode: 'adaptive', maxAttempts }));
}

/**
 * A Security Hub call that failed: logged and counted (`findingsFailed`).
 * @example
 * failure('BatchImportFindings', err, batch.length);
 */
export function failure(what: string, err: unknown, count: number): void {
  const e = err as Error;
  logger.error(`security hub: ${what} failed`, { securityHub: { error: { name: e?.name, message: e?.message }, findings: count } });
  metrics.addMetric('findingsFailed', MetricUnit.Count, count);
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
export async function closeFinding(sh: SecurityHubSender, ref: FindingRef, close: FindingClose): Promise<boolean> {
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
