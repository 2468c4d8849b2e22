// The common front of every event handler: reject, ignore, or hand over targets.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Ignored, Invalid } from '../domain/cloudtrail.js';
import { logger, metrics } from '../shell/observability.js';

export type Skipped = { status: 'invalid'; message: string; issues: string[] } | { status: 'ignored'; reason: string; message: string };

/** Bad input never retries into a loop: it is logged with its reason, counted, and returned. */
export function skip(parsed: Ignored | Invalid): Skipped {
  if (parsed.kind === 'invalid') {
    logger.error('rejected event', { rejection: { reason: 'invalid-event', message: parsed.message, issues: parsed.issues } });
    metrics.addMetric('rejectedEvents', MetricUnit.Count, 1);
    return { status: 'invalid', message: parsed.message, issues: parsed.issues };
  }
  metrics.addMetric('ignoredEvents', MetricUnit.Count, 1);
  logger.info('ignored event', {
    ignored: { reason: parsed.reason, message: parsed.message, eventId: parsed.trigger.eventId, eventName: parsed.trigger.eventName },
  });
  return { status: 'ignored', reason: parsed.reason, message: parsed.message };
}
