// enforce-instances: CloudTrail event -> instance targets -> remediation -> audit -> SNS.
import { ec2Client, regionOfArn, snsClient } from '../aws/clients.js';
import { requireTopic, type Config } from '../config.js';
import { parseInstanceEvent } from '../core/instance-events.js';
import { enforceInstances } from '../enforce/instances.js';
import { logger, metrics } from '../observability.js';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { report, type Report } from './report.js';
import { settingsFrom, basePolicy } from './settings.js';

export type HandlerResult =
  | { status: 'invalid'; message: string; issues: string[] }
  | { status: 'ignored'; reason: string; message: string }
  | ({ status: 'done' } & Report);

export function makeInstanceHandler(config: Config) {
  const topicArn = requireTopic(config);
  const settings = settingsFrom(config);
  return async (event: unknown): Promise<HandlerResult> => {
    const parsed = parseInstanceEvent(event, config.SELF_ROLE_NAMES);
    if (parsed.kind === 'invalid') {
      // Bad input never retries into a loop: log it, count it, return.
      logger.error('rejected event', { rejection: { reason: 'invalid-event', message: parsed.message, issues: parsed.issues } });
      metrics.addMetric('rejectedEvents', MetricUnit.Count, 1);
      return { status: 'invalid', message: parsed.message, issues: parsed.issues };
    }
    if (parsed.kind === 'ignored') {
      logger.info('ignored event', { ignored: { reason: parsed.reason, message: parsed.message, eventId: parsed.trigger.eventId, eventName: parsed.trigger.eventName } });
      return { status: 'ignored', reason: parsed.reason, message: parsed.message };
    }
    const records = await enforceInstances(parsed.targets, parsed.trigger, {
      ec2: ec2Client(parsed.trigger.region, { maxAttempts: config.MAX_ATTEMPTS }),
      mode: config.MODE,
      settings,
      concurrency: config.CONCURRENCY,
      policyFor: async () => ({ policy: basePolicy(config), notes: [] }),
    });
    const sns = snsClient(regionOfArn(topicArn), { maxAttempts: config.MAX_ATTEMPTS });
    return { status: 'done', ...(await report(records, sns, topicArn, config.PUBLISH_OUTCOMES)) };
  };
}
