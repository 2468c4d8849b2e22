// Powertools logger and metrics, one instance each per process.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AuditRecord } from '../domain/audit.js';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'imds-guard' });
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ImdsGuard', serviceName: 'imds-guard' });

/** Every record is a structured log line; counts go to EMF metrics. */
export function recordAudit(r: AuditRecord): void {
  const line = { audit: r };
  if (r.outcome === 'failed') logger.error(`audit ${r.outcome} ${r.resource.type} ${r.resource.id}`, line);
  else logger.info(`audit ${r.outcome} ${r.resource.type} ${r.resource.id}`, line);
  if (r.outcome === 'remediated') metrics.addMetric('remediated', MetricUnit.Count, 1);
  if (r.outcome === 'reverted') metrics.addMetric('reverted', MetricUnit.Count, 1);
  if (r.violations.length > 0) metrics.addMetric('violations', MetricUnit.Count, 1);
  if (r.outcome === 'failed') metrics.addMetric('failures', MetricUnit.Count, 1);
}
