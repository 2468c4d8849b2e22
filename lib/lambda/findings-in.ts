// Findings in (issue 15): a Security Hub finding of EC2.8 (instance) or EC2.170 (launch template) routes the
// resource it names into the same evaluation and remediation as a CloudTrail event (the kinds' own enforce),
// then the finding is updated: RESOLVED with a note after remediation, NOTIFIED with the reason when exempt,
// out of scope or left to the owner. Updates imds-guard caused itself are ignored (finding-event.ts).
import type { Context } from 'aws-lambda';
import type { AuditRecord } from '../domain/audit.js';
import { parseFindingEvent, type FindingTarget } from '../domain/finding-event.js';
import type { Trigger } from '../domain/cloudtrail.js';
import { instanceKind } from '../kinds/instance/kind.js';
import { launchTemplateKind } from '../kinds/launch-template/kind.js';
import { closingOf } from '../report/findings/closing.js';
import { auditLog, report, type AuditLog, type Report } from '../report/report.js';
import { regionOfArn, snsClient } from '../shell/clients.js';
import { loadConfig, requireTopic, type Config } from '../shell/config.js';
import { regionContext } from '../shell/region-context.js';
import { closeFinding, securityHubClient } from '../shell/security-hub-update.js';
import { idempotentRun } from './idempotency.js';
import { skip, type Skipped } from './parsed.js';
import { lambda } from './wrap.js';

/** One finding per event (AWS's docs): its id and last update are the idempotency key, in both shapes. */
const FINDING_KEY =
  '[detail.findings[0].Id || detail.findings[0].finding_info.uid, ' +
  'detail.findings[0].UpdatedAt || detail.findings[0].finding_info.modified_time_dt || detail.findings[0].finding_info.modified_time]';

type FindingsResult = Skipped | ({ status: 'done'; duplicate?: true; findingsUpdated: number } & Report);

async function evaluate(t: FindingTarget, trigger: Trigger, config: Config, log: AuditLog): Promise<AuditRecord[]> {
  const ctx = regionContext(config, t.region);
  const run = { config, ctx, onRecord: log.now };
  const records =
    t.resource.type === 'instance'
      ? await instanceKind.enforce(
          [
            {
              instanceId: t.resource.id,
              region: t.region,
              account: t.account,
              actor: trigger.actor,
              eventId: trigger.eventId,
              eventTime: trigger.eventTime,
            },
          ],
          trigger,
          run,
        )
      : await launchTemplateKind.enforce([{ region: t.region, account: t.account, launchTemplateId: t.resource.id }], trigger, run);
  log.rest(records);
  return records.filter((r) => r.resource.id === t.resource.id);
}

/**
 * The findings-in function. The instance change is made here, not queued: the finding is closed with the
 * outcome, so the outcome must be known before the invocation ends (one finding per event keeps it small).
 * @example
 * export const handler = findingsFunction(); // functions/enforce-findings.ts
 */
export function findingsFunction(config: Config = loadConfig()) {
  const topicArn = requireTopic(config);
  const { REMEDIATION_QUEUE_URL: _queued, ...direct } = config;
  const sns = () => snsClient(regionOfArn(topicArn), { maxAttempts: config.MAX_ATTEMPTS });
  const run = idempotentRun(
    config,
    async (_event, _context, parsed: { trigger: Trigger; targets: FindingTarget[] }) => {
      const log = auditLog();
      const all: AuditRecord[] = [];
      let findingsUpdated = 0;
      for (const t of parsed.targets) {
        const records = await evaluate(t, parsed.trigger, direct, log);
        all.push(...records);
        if (await closeFinding(securityHubClient(t.region, config.MAX_ATTEMPTS), t.ref, closingOf(records))) findingsUpdated++;
      }
      const rep = await report(all, sns(), topicArn, config.PUBLISH_OUTCOMES);
      return { status: 'done' as const, findingsUpdated, ...rep };
    },
    FINDING_KEY,
  );
  return lambda(async (event: unknown, context?: Context): Promise<FindingsResult> => {
    const parsed = parseFindingEvent(event);
    if (parsed.kind !== 'targets') return skip(parsed);
    return run(event, context, parsed);
  });
}
