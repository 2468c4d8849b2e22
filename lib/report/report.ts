// The end of every run: publish the records owners must hear about. Each record was logged (recordAudit) when it
// was decided, by the caller; report logs only the run's counts.
import type { SNSClient } from '@aws-sdk/client-sns';
import { publishMessages, type Published } from './sns.js';
import { countByOutcome, type AuditRecord, type Outcome } from '../domain/audit.js';
import { renderOwnerMessages } from './message.js';
import { logger, recordAudit } from '../shell/observability.js';
import { keepRecords, type AuditStore } from '../shell/audit-store.js';

export interface Report {
  counts: Partial<Record<Outcome, number>>;
  /** One line per resource, compliant and out-of-scope ones included (those are logged, not published). */
  decisions: { type: string; id: string; outcome: Outcome; owner: string; reason?: string }[];
  published: Published[];
}

/**
 * Where records go besides SNS: the audit store (AUDIT_TABLE), when there is one. Security Hub is not a sink
 * here: publish-findings reads the audit topic (lib/lambda/publish-findings.ts), so no function but that one
 * bundles BatchImportFindings and its ASFF schema.
 */
export interface ReportSinks {
  store?: AuditStore | undefined;
}

/**
 * Keep every record in the audit store (when there is one), publish what owners must hear about, and sum the
 * run up. It logs no record: the caller did as each was made. A store failure is logged and counted, never
 * thrown (keepRecords), so the messages still go out.
 *
 * @example
 * const rep = await report(records, sns, topicArn, config.PUBLISH_OUTCOMES, { store });
 */
export async function report(
  records: AuditRecord[],
  sns: SNSClient,
  topicArn: string,
  publishOutcomes: Outcome[],
  sinks: ReportSinks = {},
): Promise<Report> {
  const toPublish = records.filter((r) => publishOutcomes.includes(r.outcome));
  const { store } = sinks;
  const messages = renderOwnerMessages(toPublish, store ? { auditTable: store.ref } : {});
  // A publish failure throws: the invocation fails and EventBridge/Lambda retry (the store's writes are
  // idempotent: same key, same item), then the DLQ keeps it.
  const [published] = await Promise.all([publishMessages(sns, topicArn, messages), keepRecords(store, records)]);
  const counts = countByOutcome(records);
  logger.info('run complete', { counts, published: published.length });
  const decisions = records.map((r) => ({
    type: r.resource.type,
    id: r.resource.id,
    outcome: r.outcome,
    owner: r.resource.owner,
    ...(r.reason ? { reason: r.reason } : {}),
  }));
  return { counts, decisions, published };
}

export interface AuditLog {
  /** Log a record now (as it is decided); a record already logged is not logged again. */
  now(r: AuditRecord): void;
  /** Log the records of a final list that were not logged yet. */
  rest(records: AuditRecord[]): void;
}

/**
 * Each audit record logged once (recordAudit: the log line and its metrics), as early as the caller can.
 *
 * @example
 * const log = auditLog();
 * const records = await enforce(targets, trigger, { onRecord: log.now });
 * log.rest(records); // records a kind handed back only at the end
 */
export function auditLog(): AuditLog {
  const logged = new WeakSet<AuditRecord>();
  const now = (r: AuditRecord) => {
    if (logged.has(r)) return;
    logged.add(r);
    recordAudit(r);
  };
  return { now, rest: (records) => records.forEach(now) };
}
