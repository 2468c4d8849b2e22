// In a hub deployment, every forwarded event passes this gate before any AssumeRole: the envelope account must
// be the recording account, and that account a member of the organization. A rejection is one structured log
// line and a metric; the event is dropped (never retried into a loop).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { hubRejection, type HubRejection } from '../domain/hub.js';
import type { Config } from '../shell/config.js';
import { logger, metrics } from '../shell/observability.js';
import { membership } from '../shell/organization.js';

export type Rejected = { status: 'rejected'; reason: HubRejection['reason']; message: string };

/**
 * The gate for this deployment: always passes in an account deployment.
 * @example
 * const gate = hubGate(config); const rejected = await gate(event); if (rejected) return rejected;
 */
export function hubGate(config: Config, isMember = membership({ maxAttempts: config.MAX_ATTEMPTS })) {
  return async (event: unknown): Promise<Rejected | undefined> => {
    if (config.DEPLOYMENT !== 'hub') return undefined;
    // The pure check first (no call for a mismatch); then membership, one cached ListAccounts.
    const first = hubRejection(event, () => true);
    const account = (event as { account?: string }).account ?? '';
    const r = first ?? hubRejection(event, (await isMember(account)) ? () => true : () => false);
    if (!r) return undefined;
    const id = (event as { detail?: { eventID?: unknown } }).detail?.eventID;
    logger.error('rejected event', { rejection: { ...r, organizationId: config.ORGANIZATION_ID, eventId: id } });
    metrics.addMetric('rejectedEvents', MetricUnit.Count, 1);
    return { status: 'rejected', reason: r.reason, message: r.message };
  };
}
