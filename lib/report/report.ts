// The end of every run: log each record, publish the ones owners must hear about.
import type { SNSClient } from '@aws-sdk/client-sns';
import { publishMessages, type Published } from './sns.js';
import { countByOutcome, type AuditRecord, type Outcome } from '../domain/audit.js';
import { renderOwnerMessages } from './message.js';
import { logger, recordAudit } from '../shell/observability.js';

export interface Report {
  counts: Partial<Record<Outcome, number>>;
  /** One line per resource, compliant and out-of-scope ones included (those are logged, not published). */
  decisions: { type: string; id: string; outcome: Outcome; owner: string; reason?: string }[];
  published: Published[];
}

export async function report(records: AuditRecord[], sns: SNSClient, topicArn: string, publishOutcomes: Outcome[]): Promise<Report> {
  // Log every record before any Publish: if publishing fails and the retry finds the resource already
  // compliant, this log line is the only record of the change.
  for (const r of records) recordAudit(r);
  const toPublish = records.filter((r) => publishOutcomes.includes(r.outcome));
  const messages = renderOwnerMessages(toPublish);
  // A publish failure throws: the invocation fails and EventBridge/Lambda retry, then the DLQ keeps it.
  const published = await publishMessages(sns, topicArn, messages);
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
