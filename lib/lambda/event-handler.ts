// The shape every event-driven Lambda shares: parse -> (skip | enforce) -> report.
import { regionOfArn, snsClient } from '../shell/clients.js';
import { loadConfig, requireTopic, type Config } from '../shell/config.js';
import type { AuditRecord } from '../domain/audit.js';
import type { Trigger } from '../domain/cloudtrail.js';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { metrics } from '../shell/observability.js';
import { idempotentRun } from './idempotency.js';
import { skip, type Skipped } from './parsed.js';
import { auditLog, report, type Report } from '../report/report.js';
import { actingIn, regionContext, type RegionContext } from '../shell/region-context.js';
import { hubGate, type Rejected } from './hub-gate.js';
import type { EventKind, ParsedEvent } from '../kinds/types.js';
import { lambda } from './wrap.js';
import { auditStoreFor } from '../shell/audit-store.js';

/**
 * `duplicate`: a redelivered event; the stored result of the first run, with no AWS call made.
 * `queued`: changes handed to the remediation queue (their records are the consumer's).
 */
type HandlerResult = Skipped | Rejected | ({ status: 'done'; duplicate?: true; queued: number } & Report);

/** What the handler hands a kind's run: where each record and queued change goes as it is decided. */
export interface RunHooks {
  onRecord: (r: AuditRecord) => void;
  onQueued: (item: { id: string }) => void;
}

function makeEventHandler<T>(
  config: Config,
  parse: (event: unknown, selfRoleNames: string[]) => ParsedEvent<T>,
  enforce: (targets: T[], trigger: Trigger, ctx: RegionContext, invocation: Context | undefined, hooks: RunHooks) => Promise<AuditRecord[]>,
) {
  const topicArn = requireTopic(config);
  const sns = () => snsClient(regionOfArn(topicArn), { maxAttempts: config.MAX_ATTEMPTS });
  const store = auditStoreFor(config, process.env.AWS_REGION ?? regionOfArn(topicArn));
  // Build the home Region's clients during init, which Lambda runs before the first event arrives.
  if (process.env.AWS_REGION) {
    regionContext(config, process.env.AWS_REGION);
    sns();
  }
  const gate = hubGate(config);
  // Only events with targets reach the idempotency store: skipped ones make no AWS call at all.
  const run = idempotentRun(config, async (_event, context, parsed: { trigger: Trigger; targets: T[] }) => {
    metrics.addMetric('processedEvents', MetricUnit.Count, 1);
    // The one place records are logged: as each is decided (a timed-out run still leaves its lines), once.
    const log = auditLog();
    let queued = 0;
    const hooks: RunHooks = { onRecord: log.now, onQueued: () => void queued++ };
    // A hub acts in the account the event names (its member role); an account deployment in its own.
    const t = parsed.trigger;
    const records = await enforce(
      parsed.targets,
      t,
      regionContext(config, t.region, actingIn(config, t.account, t.eventId)),
      context,
      hooks,
    );
    // Kinds that hand their records back only at the end are logged here, still before any Publish.
    log.rest(records);
    return {
      status: 'done' as const,
      queued,
      ...(await report(records, sns(), topicArn, config.PUBLISH_OUTCOMES, { store })),
    };
  });
  return async (event: unknown, context?: Context): Promise<HandlerResult> => {
    const parsed = parse(event, config.SELF_ROLE_NAMES);
    if (parsed.kind !== 'targets') return skip(parsed);
    const rejected = await gate(event);
    if (rejected) return rejected;
    return run(event, context, parsed);
  };
}

/**
 * A kind's Lambda function: configuration read at cold start (an invalid one fails there, naming the
 * variable), then parse -> enforce -> report for each event, wrapped like every function (wrap.ts).
 *
 * @example
 * export const handler = eventFunction(instanceKind); // functions/enforce-instances.ts
 */
export function eventFunction<T>(kind: EventKind<T>, config: Config = loadConfig()) {
  return lambda(
    makeEventHandler(config, kind.parse, (targets, trigger, ctx, invocation, hooks) =>
      kind.enforce(targets, trigger, {
        config,
        ctx,
        ...hooks,
        ...(invocation ? { remainingMs: () => invocation.getRemainingTimeInMillis() } : {}),
      }),
    ),
  );
}
