// backfill: invoked by hand with {mode, regions?, scope?, clusters?}, or by the sweep schedule with
// {mode, sweep: true, regions}. The first invocation fans out one asynchronous child per Region
// (self-invocation); a child whose Region does not fit in one invocation hands over to a continuation child
// with the last instance ID it handled. The last link of each Region publishes that Region's summary (and, for
// a sweep, stamps the queue's last-sweep tag). With REMEDIATION_QUEUE_URL set, instance changes go onto the
// remediation queue. See docs/backfill.md for why not Step Functions.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { STSClient } from '@aws-sdk/client-sts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { ec2Client, regionOfArn, snsClient } from '../shell/clients.js';
import { listEnabledRegions } from '../kinds/instance/scan.js';
import { RateLimiter } from '../shell/rate-limit.js';
import { publishMessages } from '../report/sns.js';
import { loadConfig, requireTopic, type Config } from '../shell/config.js';
import { callerIdentity, newRunId, type RunInfo } from '../runs/context.js';
import { INCLUDE_ALL, INSTANCES_ONLY } from '../runs/discover.js';
import { runBackfill, type RegionResult } from '../runs/run.js';
import { stampLastSweep } from '../runs/sweep.js';
import { errorOf } from '../domain/errors.js';
import { formatIssues } from '../domain/issues.js';
import { addCounts, regionSummary, renderSummaryMessage, summarize, sweepCounts, type Counts } from '../report/summary.js';
import { logger, metrics } from '../shell/observability.js';
import { auditLog, report } from '../report/report.js';
import { auditStoreFor } from '../shell/audit-store.js';
import { BackfillEventSchema, EXPECTED, MAX_LINKS, type BackfillEvent, type Child } from './backfill-event.js';
import { lambda } from './wrap.js';

export type { BackfillEvent } from './backfill-event.js';

/** Counted when a fan-out starts some Regions but not all; infra/backfill.yml alarms on it. */
export const REGIONS_NOT_STARTED_METRIC = 'backfillRegionsNotStarted';
/** A sweep's queued nodes that launched long enough ago that their event should have fixed them. */
const SWEEP_MISSED_METRIC = 'sweepMissedByEvents';
/** Kept back from the invocation's time for reporting, publishing and the hand-over. */
export const SAFETY_MS = 90_000;

type Queued = NonNullable<Child['queued']>;
type Done = { runId: string; region: string; link: number; counts: Counts };

export type BackfillHandlerResult =
  | { status: 'invalid'; message: string; issues: string[] }
  | {
      status: 'fanned-out';
      runId: string;
      regions: string[];
      invocations: number;
      notStarted?: string[];
      error?: { name: string; message: string };
    }
  | (Done & { status: 'continued'; afterInstanceId: string; remaining: number })
  | (Done & { status: 'done'; queued?: Queued; error?: { name: string; message: string } });

export interface BackfillDeps {
  lambda?: LambdaClient;
  sts?: STSClient;
  sqs?: SQSClient;
  limiter?: RateLimiter;
  now?: () => number;
}

class FanOutError extends Error {
  override name = 'FanOutError';
}

const eventNameOf = (e: BackfillEvent) => (e.sweep ? 'Sweep' : e.mode === 'scan' ? 'Scan' : 'Backfill');

const addQueued = (a: Queued | undefined, b: Queued): Queued => ({
  queued: (a?.queued ?? 0) + b.queued,
  missedByEvents: (a?.missedByEvents ?? 0) + b.missedByEvents,
  inFlight: (a?.inFlight ?? 0) + b.inFlight,
});

/** What every step of the handler shares: configuration, clients (made on first use) and the clock. */
function envFor(config: Config, deps: BackfillDeps) {
  const topicArn = requireTopic(config);
  // One limiter per container: AWS's buckets are per account and Region, and a container serves one chain at a time.
  const limiter = deps.limiter ?? new RateLimiter();
  const now = deps.now ?? Date.now;
  let lambdaClient = deps.lambda;
  const lambdaFor = (region: string) => (lambdaClient ??= new LambdaClient({ region, maxAttempts: config.MAX_ATTEMPTS }));
  const sns = () => snsClient(regionOfArn(topicArn), { maxAttempts: config.MAX_ATTEMPTS });
  const home = () => process.env.AWS_REGION ?? regionOfArn(topicArn);
  let sqsClient = deps.sqs;
  const sqs = () => (sqsClient ??= new SQSClient({ region: home(), maxAttempts: config.MAX_ATTEMPTS }));
  const queueUrl = config.REMEDIATION_QUEUE_URL;

  const invoke = async (functionArn: string, payload: BackfillEvent) => {
    await lambdaFor(regionOfArn(functionArn)).send(
      new InvokeCommand({ FunctionName: functionArn, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
    );
  };
  const iso = () => new Date(now()).toISOString();
  const store = auditStoreFor(config, home());
  return { config, deps, topicArn, limiter, now, iso, sns, home, sqs, queueUrl, invoke, store };
}

type Env = ReturnType<typeof envFor>;

async function fanOut(env: Env, event: BackfillEvent, context: Context): Promise<BackfillHandlerResult> {
  const { config, now, home, sns, invoke, deps, topicArn } = env;
  const caller = await callerIdentity(home(), deps.sts);
  const regions = event.regions ?? (await listEnabledRegions(ec2Client(home(), { maxAttempts: config.MAX_ATTEMPTS })));
  const runId = newRunId(new Date(now()));
  const startedAt = new Date(now()).toISOString();
  const settled = await Promise.allSettled(
    regions.map((region) =>
      invoke(context.invokedFunctionArn, {
        ...event,
        regions: [region],
        child: { runId, region, link: 0, account: caller.account, actor: caller.arn, startedAt, counts: {}, identityNotReady: [] },
      }),
    ),
  );
  const failed = regions.filter((_, i) => settled[i]?.status === 'rejected');
  const started = regions.filter((r) => !failed.includes(r));
  logger.info('backfill fanned out', { backfill: { runId, mode: event.mode, regions, failed } });
  if (!failed.length) return { status: 'fanned-out', runId, regions, invocations: regions.length };

  const first = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
  const why =
    `could not start Region(s) ${failed.join(', ')} (${errorOf(first.reason).message}); ` +
    `started ${started.join(', ') || 'none'}. Invoke again with "regions": ${JSON.stringify(failed)}`;
  // Nothing started: failing the invocation is safe, since Lambda's retry starts the whole run again.
  if (!started.length) throw new FanOutError(`run ${runId}: ${why}.`);
  // Some Regions already run: a retry would start them twice. Keep the rest in the audit trail instead:
  // a summary per Region not started (a failed publish still fails the invocation), an error log and
  // the backfillRegionsNotStarted metric, which alarms.
  const run = { runId, account: caller.account, actor: caller.arn, startedAt, eventName: eventNameOf(event) };
  const error = { name: 'FanOutError', message: why };
  const mode = event.mode === 'enforce' ? 'enforce' : 'dry-run';
  const finishedAt = new Date(now()).toISOString();
  await publishMessages(
    sns(),
    topicArn,
    failed.map((region) =>
      renderSummaryMessage(summarize(run, mode, [{ ...regionSummary({ region, records: [] }), error }], finishedAt), config.DEFAULT_OWNER),
    ),
  );
  logger.error('backfill Regions not started', { backfill: { runId, failed, error } });
  metrics.addMetric(REGIONS_NOT_STARTED_METRIC, MetricUnit.Count, failed.length);
  return { status: 'fanned-out', runId, regions: started, invocations: started.length, notStarted: failed, error };
}

/** One link: enforce (or scan) what fits, through the queue when there is one; report every record. */
async function runLink(env: Env, event: BackfillEvent, child: Child, run: RunInfo, context: Context) {
  const { config, limiter, queueUrl, sqs, now, sns, topicArn, store } = env;
  const cfg: Config = {
    ...config,
    ...(event.scope ? { SCOPE: event.scope } : {}),
    ...(event.rollout !== undefined ? { ROLLOUT: event.rollout } : {}),
  };
  const launched: { launchTime?: string | undefined }[] = [];
  // Records are logged as they are decided where they are final (a dry run; the apply phase), the rest at the end.
  const log = auditLog();
  let final = event.mode !== 'enforce';
  const result = await runBackfill({
    config: cfg,
    run,
    limiter,
    hooks: {
      phase: (_r, phase) => {
        if (phase === 'apply') final = true;
      },
      record: (_r, rec) => {
        if (final) log.now(rec);
      },
    },
    ...(queueUrl ? { queue: { sqs: sqs(), url: queueUrl, maxHopLimit: cfg.MAX_HOP_LIMIT } } : {}),
    onQueued: (_region, _item, launchTime) => launched.push({ launchTime }),
    request: {
      mode: event.mode === 'enforce' ? 'enforce' : 'dry-run',
      regions: [child.region],
      clusters: event.clusters ?? [],
      query: event.query ?? 'inventory',
      include: child.link === 0 ? INCLUDE_ALL : INSTANCES_ONLY,
      ...(child.afterInstanceId ? { afterInstanceId: child.afterInstanceId } : {}),
      deadline: now() + context.getRemainingTimeInMillis() - SAFETY_MS,
    },
  });
  const region = result.regions[0] as RegionResult;
  // Every record is an audit log line; owners hear about PUBLISH_OUTCOMES.
  log.rest(region.records);
  const rep = await report(region.records, sns(), topicArn, config.PUBLISH_OUTCOMES, { store });
  const queued = addQueued(child.queued, sweepCounts(launched, child.startedAt));
  return { mode: result.mode, region, counts: addCounts(child.counts as Counts, rep.counts), queued };
}

async function runChild(env: Env, event: BackfillEvent, child: Child, context: Context): Promise<BackfillHandlerResult> {
  const { config, topicArn, iso, sns, invoke, queueUrl, sqs, now } = env;
  const { runId, account, actor, startedAt } = child;
  const run: RunInfo = { runId, account, actor, startedAt, source: 'backfill', eventName: eventNameOf(event) };
  const { mode, region, counts, queued } = await runLink(env, event, child, run, context);
  const rs = regionSummary(region);
  const identityNotReady = [...new Set([...child.identityNotReady, ...rs.identityNotReady])];
  const accountDefaultsCompliant = rs.accountDefaultsCompliant ?? child.accountDefaultsCompliant;
  const adc = accountDefaultsCompliant !== undefined ? { accountDefaultsCompliant } : {};
  const base = { runId: child.runId, region: child.region, link: child.link };

  if (region.continuation && !region.error && child.link + 1 < MAX_LINKS) {
    const { afterInstanceId, remaining } = region.continuation;
    const next: Child = { ...child, link: child.link + 1, afterInstanceId, counts, identityNotReady, queued, ...adc };
    await invoke(context.invokedFunctionArn, { ...event, child: next });
    logger.info('backfill continues', { backfill: { ...base, afterInstanceId, remaining } });
    return { status: 'continued', ...base, afterInstanceId, remaining, counts };
  }

  const error = region.error ?? tooManyLinks(region);
  const sweep = event.sweep ? { missedByEvents: queued.missedByEvents, inFlight: queued.inFlight } : {};
  const line = { ...rs, counts, identityNotReady, ...adc, ...(error ? { error } : {}), links: child.link + 1 };
  const summary = summarize(run, mode, [{ ...line, ...(queued.queued || event.sweep ? { queued: queued.queued } : {}), ...sweep }], iso());
  await publishMessages(sns(), topicArn, [renderSummaryMessage(summary, config.DEFAULT_OWNER)]);
  if (error) {
    // A Region that failed (an enqueue that failed, say) counts as a failure: the FailuresAlarm path.
    metrics.addMetric('failures', MetricUnit.Count, 1);
    logger.error('backfill region failed', { backfill: { ...base, counts, error } });
  } else logger.info('backfill region complete', { backfill: { ...base, counts, queued } });
  if (event.sweep) {
    metrics.addMetric(SWEEP_MISSED_METRIC, MetricUnit.Count, queued.missedByEvents);
    if (queueUrl && !error) await stampLastSweep(sqs(), queueUrl, new Date(now()));
  }
  return { status: 'done', ...base, counts, ...(queueUrl ? { queued } : {}), ...(error ? { error } : {}) };
}

export function makeBackfillHandler(config: Config, deps: BackfillDeps = {}) {
  const env = envFor(config, deps);
  return async (raw: unknown, context: Context): Promise<BackfillHandlerResult> => {
    const parsed = BackfillEventSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = formatIssues(parsed.error.issues, '(event)');
      logger.error('rejected backfill input', { rejection: { reason: 'invalid-input', issues } });
      return { status: 'invalid', message: EXPECTED, issues };
    }
    const event = parsed.data;
    return event.child ? runChild(env, event, event.child, context) : fanOut(env, event, context);
  };
}

function tooManyLinks(region: RegionResult): { name: string; message: string } | undefined {
  if (!region.continuation) return undefined;
  const left = region.continuation.remaining;
  return { name: 'TooManyLinks', message: `stopped after ${MAX_LINKS} invocations with ${left} instances left; run the backfill again` };
}

/** The backfill function: configuration read at cold start, wrapped like every function (wrap.ts). */
export function backfillFunction(config: Config = loadConfig()) {
  return lambda(makeBackfillHandler(config));
}
