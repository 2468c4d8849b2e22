// publish-findings (issue 15, findings out): SNS audit message -> the account's own Security Hub findings (ASFF).
// A consumer of the audit topic like notify-slack, so only this function bundles BatchImportFindings and the ASFF
// input schema. Bad input is skipped; a refused finding is logged and counted; a failed call fails the invocation.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SNSEvent } from 'aws-lambda';
import type { AuditRecord } from '../domain/audit.js';
import { loadConfig, type Config } from '../shell/config.js';
import { logger, metrics } from '../shell/observability.js';
import { sendFindings, type FindingsSent } from '../shell/security-hub.js';
import { securityHubClient, type SecurityHubSender } from '../shell/security-hub-update.js';
import { parseSnsMessage } from '../report/slack/input.js';
import { lambda } from './wrap.js';

export interface PublishFindingsSummary {
  messages: number;
  invalid: number;
  records: number;
  findings: FindingsSent;
}

export interface PublishFindingsDeps {
  /** The audit topic: records from any other topic are dropped with a log line (issue 17). */
  topicArn?: string;
  clientFor?: (region: string) => SecurityHubSender;
}

/** The records of the event's SNS messages from the audit topic; foreign and invalid messages are logged, counted, skipped. */
function recordsOf(event: SNSEvent, topicArn: string | undefined): { records: AuditRecord[]; messages: number; invalid: number } {
  const records: AuditRecord[] = [];
  let messages = 0;
  let invalid = 0;
  for (const rec of event?.Records ?? []) {
    if (topicArn !== undefined && rec?.Sns?.TopicArn !== topicArn) {
      logger.warn('dropped SNS record from another topic', {
        rejection: { reason: 'foreign-topic', messageId: rec?.Sns?.MessageId, topicArn: String(rec?.Sns?.TopicArn ?? '') },
      });
      metrics.addMetric('findingsForeignMessages', MetricUnit.Count, 1);
      continue;
    }
    const parsed = parseSnsMessage(String(rec?.Sns?.Message ?? ''));
    if (parsed.kind === 'invalid') {
      // A retry would fail the same way: log, count, skip.
      invalid++;
      logger.error('rejected SNS message', {
        rejection: { reason: 'invalid-message', messageId: rec?.Sns?.MessageId, message: parsed.message, issues: parsed.issues },
      });
      metrics.addMetric('findingsInvalidMessages', MetricUnit.Count, 1);
      continue;
    }
    messages++;
    for (const b of parsed.batches) records.push(...b.records);
  }
  return { records, messages, invalid };
}

/**
 * The handler without the Lambda edge: every record of the audit messages goes to Security Hub (sendFindings:
 * batches of 100 per Region, then the workflow updates). A refused finding (FailedFindings) is logged and
 * counted (`findingsFailed`), not retried; a failed call throws after every batch was tried, so the async
 * retry and then the on-failure queue keep the message (imports are idempotent: same finding ID, updated).
 *
 * @example
 * const out = await makePublishFindingsHandler({ topicArn })(snsEvent); // { records: 2, findings: { imported: 2, … } }
 */
export function makePublishFindingsHandler(deps: PublishFindingsDeps = {}) {
  return async (event: SNSEvent): Promise<PublishFindingsSummary> => {
    const { records, messages, invalid } = recordsOf(event, deps.topicArn);
    const findings = records.length
      ? await sendFindings(records, deps.clientFor ?? securityHubClient, { throwOnCallFailure: true })
      : { imported: 0, failed: 0, workflowUpdated: 0 };
    logger.info('findings published', { findings, messages, invalid, records: records.length });
    return { messages, invalid, records: records.length, findings };
  };
}

/**
 * The publish-findings function, subscribed to the audit topic only when the `securityHub` param is "true".
 *
 * @example
 * export const handler = publishFindingsFunction(); // functions/publish-findings.ts
 */
export function publishFindingsFunction(config: Config = loadConfig()) {
  if (!config.TOPIC_ARN) logger.warn('TOPIC_ARN is not set: publish-findings accepts SNS records from any topic');
  const run = makePublishFindingsHandler({
    ...(config.TOPIC_ARN ? { topicArn: config.TOPIC_ARN } : {}),
    clientFor: (region) => securityHubClient(region, config.MAX_ATTEMPTS),
  });
  return lambda((event: SNSEvent, _context: Context) => run(event));
}
