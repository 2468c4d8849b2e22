// backfill: one AWS Lambda durable execution per run (invoked by hand with {mode, regions?, accounts? | org? |
// ou?, ...}, or by the sweep schedule with {mode, sweep: true, regions}). Its first step resolves the caller,
// the Regions and the member accounts into (account x Region) units; a durable map runs the units with bounded
// concurrency, each a chain of checkpointed links of the per-Region worker (backfill-unit.ts); a unit that
// fails is retried, then counted against the failure tolerance; the last step publishes one summary for the
// whole run (and, for a sweep, stamps the queue's last-sweep tag). A finished step is never run again: an
// execution cut off half-way resumes from its checkpoints. See docs/backfill.md for why not Step Functions.
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { STSClient } from '@aws-sdk/client-sts';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  createRetryStrategy,
  withDurableExecution,
  type BatchResult,
  type DurableContext,
  type StepConfig,
} from '@aws/durable-execution-sdk-js';
import { ec2Client, regionOfArn, snsClient, sqsClient } from '../shell/clients.js';
import { listEnabledRegions } from '../kinds/instance/scan.js';
import { RateLimiter } from '../shell/rate-limit.js';
import { publishMessages } from '../report/sns.js';
import { loadConfig, requireTopic, type Config } from '../shell/config.js';
import { callerIdentity, newRunId, type BackfillContext, type RunInfo } from '../runs/context.js';
import { unitLabel, unitsOf, type Unit } from '../runs/run.js';
import { stampLastSweep } from '../runs/sweep.js';
import { formatIssues } from '../domain/issues.js';
import { addCounts, renderSummaryMessage, summarize, type Counts, type RegionSummary } from '../report/summary.js';
import { AccountSelectionError, organizationsClient, selectAccounts } from '../shell/organization.js';
import { logger, metrics } from '../shell/observability.js';
import { auditStoreFor } from '../shell/audit-store.js';
import { BackfillEventSchema, EXPECTED, MAX_LINKS, type BackfillEvent } from './backfill-event.js';
import {
  mergeOutcome,
  runLink,
  SAFETY_MS,
  UnitError,
  unitErrorOf,
  type LinkResult,
  type RunPlan,
  type UnitEnv,
  type UnitOutcome,
} from './backfill-unit.js';
import { lambda } from './wrap.js';

export { SAFETY_MS } from './backfill-unit.js';

/** A sweep's queued nodes that launched long enough ago that their event should have fixed them. */
const SWEEP_MISSED_METRIC = 'sweepMissedByEvents';

export type BackfillHandlerResult =
  | { status: 'invalid'; message: string; issues: string[] }
  | {
      status: 'done' | 'failed';
      runId: string;
      units: number;
      succeeded: number;
      failed: number;
      counts: Counts;
      completionReason: string;
    };

export interface BackfillDeps {
  sts?: STSClient;
  sqs?: SQSClient;
  organizations?: OrganizationsClient;
  limiter?: RateLimiter;
  now?: () => number;
  /** The invocation's remaining time (default: the Lambda context's); tests cut an invocation short with it. */
  remainingMs?: () => number;
  /** Injected in tests; default backfillContext (through the member role for a member account). */
  context?: (region: string, account?: string) => BackfillContext;
  /** Attempts per link and the first retry's delay; default 3 attempts, 5 s then 10 s apart. */
  retry?: { maxAttempts: number; delaySeconds: number };
}

/** A failed link is tried again (a throttled AssumeRole, a 5xx burst) with a growing delay. */
const unitRetry = (r: { maxAttempts: number; delaySeconds: number } = { maxAttempts: 3, delaySeconds: 5 }) => ({
  retryStrategy: createRetryStrategy({ maxAttempts: r.maxAttempts, initialDelay: { seconds: r.delaySeconds }, backoffRate: 2 }),
});

const eventNameOf = (e: BackfillEvent) => (e.sweep ? 'Sweep' : e.mode === 'scan' ? 'Scan' : 'Backfill');

function envFor(config: Config, deps: BackfillDeps) {
  const topicArn = requireTopic(config);
  // One limiter per container: its buckets are per account and Region, as AWS's are.
  const limiter = deps.limiter ?? new RateLimiter();
  const now = deps.now ?? Date.now;
  const home = () => process.env.AWS_REGION ?? regionOfArn(topicArn);
  // The shared client (adaptive retry, cached per Region, forgotten by resetClients), as every other function's.
  const sqs = () => deps.sqs ?? sqsClient(home(), { maxAttempts: config.MAX_ATTEMPTS });
  const unit: UnitEnv = {
    config,
    limiter,
    topicArn,
    sns: () => snsClient(regionOfArn(topicArn), { maxAttempts: config.MAX_ATTEMPTS }),
    sqs,
    queueUrl: config.REMEDIATION_QUEUE_URL,
    store: auditStoreFor(config, home()),
    ...(deps.context ? { context: deps.context } : {}),
  };
  return { config, deps, topicArn, now, home, unit };
}

type Env = ReturnType<typeof envFor>;

/** Step 1: who runs, where, in which accounts. An account selection that names nothing real is the caller's error. */
async function resolvePlan(env: Env, event: BackfillEvent): Promise<RunPlan | { invalid: string }> {
  const { config, deps, home, now } = env;
  const caller = await callerIdentity(home(), deps.sts);
  const regions = event.regions ?? (await listEnabledRegions(ec2Client(home(), { maxAttempts: config.MAX_ATTEMPTS })));
  let accounts: string[] | undefined;
  const sel = event.accounts ? { accounts: event.accounts } : event.org ? { org: true as const } : event.ou ? { ou: event.ou } : undefined;
  try {
    if (sel) accounts = await selectAccounts(deps.organizations ?? organizationsClient(config.MAX_ATTEMPTS), sel);
  } catch (err) {
    if (err instanceof AccountSelectionError) return { invalid: err.message };
    throw err;
  }
  const startedAt = new Date(now());
  const run: RunInfo = {
    runId: newRunId(startedAt),
    account: caller.account,
    actor: caller.arn,
    startedAt: startedAt.toISOString(),
    source: 'backfill',
    eventName: eventNameOf(event),
  };
  const units = unitsOf({ regions, ...(accounts ? { accounts } : {}) });
  const toleratedFailures = event.toleratedFailures ?? Math.max(1, Math.ceil(units.length / 10));
  logger.info('backfill planned', { backfill: { runId: run.runId, mode: event.mode, units: units.length, toleratedFailures } });
  return { run, units, toleratedFailures };
}

/** One unit: a chain of checkpointed links, with a durable wait between them (a fresh invocation if time ran out). */
async function runUnit(env: Env, ctx: DurableContext, event: BackfillEvent, plan: RunPlan, unit: Unit): Promise<UnitOutcome> {
  const remaining = env.deps.remainingMs ?? (() => ctx.lambdaContext.getRemainingTimeInMillis());
  let outcome: UnitOutcome | undefined;
  let after: LinkResult['continuation'];
  for (let link = 0; link < MAX_LINKS; link++) {
    const r = await ctx.step(
      `link-${link}`,
      async () => runLink(env.unit, event, plan.run, unit, link, after, env.now() + remaining() - SAFETY_MS),
      unitRetry(env.deps.retry) as StepConfig<Awaited<ReturnType<typeof runLink>>>,
    );
    outcome = outcome ? mergeOutcome(outcome, r.outcome) : r.outcome;
    if (!r.continuation) return outcome;
    after = r.continuation;
    // Lets the invocation end once every branch is waiting; the next one replays the finished links from checkpoints.
    await ctx.wait(`resume-${link}`, { seconds: 1 });
  }
  throw new UnitError('TooManyLinks', `stopped after ${MAX_LINKS} links; run the backfill again for ${unitLabel(unit)}`);
}

/** The summary lines: every unit, a failed or never-started one with its error. */
function unitLines(plan: RunPlan, batch: BatchResult<UnitOutcome>): RegionSummary[] {
  return plan.units.map((unit, i) => {
    const item = batch.all.find((x) => x.index === i);
    if (item?.result) return item.result;
    const error = item?.error
      ? unitErrorOf(item.error.cause ?? item.error)
      : { name: 'NotStarted', message: `not started: the run stopped after ${plan.toleratedFailures} tolerated failures` };
    return { region: unit.region, ...(unit.account ? { account: unit.account } : {}), counts: {}, byType: {}, identityNotReady: [], error };
  });
}

async function finishRun(env: Env, event: BackfillEvent, plan: RunPlan, batch: BatchResult<UnitOutcome>): Promise<BackfillHandlerResult> {
  const lines = unitLines(plan, batch);
  const mode = event.mode === 'enforce' ? 'enforce' : 'dry-run';
  const summary = summarize(plan.run, mode, lines, new Date(env.now()).toISOString());
  await publishMessages(env.unit.sns(), env.topicArn, [renderSummaryMessage(summary, env.config.DEFAULT_OWNER)]);
  const failed = lines.filter((l) => l.error).length;
  // A unit that failed counts as a failure: the FailuresAlarm path.
  if (failed) metrics.addMetric('failures', MetricUnit.Count, failed);
  // One line per unit; the dashboard's "Last sweep per Region" reads them (infra/dashboard.yml).
  for (const l of lines) {
    const unit = { runId: plan.run.runId, region: l.region, ...(l.account ? { account: l.account } : {}), counts: l.counts };
    if (l.error) logger.error('backfill region failed', { backfill: { ...unit, error: l.error } });
    else logger.info('backfill region complete', { backfill: unit });
  }
  if (event.sweep) {
    metrics.addMetric(
      SWEEP_MISSED_METRIC,
      MetricUnit.Count,
      lines.reduce((n, l) => n + (l.missedByEvents ?? 0), 0),
    );
    if (env.unit.queueUrl && !failed) await stampLastSweep(env.unit.sqs(), env.unit.queueUrl, new Date(env.now()));
  }
  const counts = lines.reduce<Counts>((acc, l) => addCounts(acc, l.counts), {});
  logger.info('backfill complete', { backfill: { runId: plan.run.runId, counts, failed, reason: batch.completionReason } });
  return {
    status: batch.completionReason === 'FAILURE_TOLERANCE_EXCEEDED' ? 'failed' : 'done',
    runId: plan.run.runId,
    units: plan.units.length,
    succeeded: lines.length - failed,
    failed,
    counts,
    completionReason: batch.completionReason,
  };
}

/**
 * The durable orchestration, before withDurableExecution wraps it (tests run it through the testing SDK).
 * @example
 * const handler = withDurableExecution(makeBackfillHandler(loadConfig()));
 */
export function makeBackfillHandler(config: Config, deps: BackfillDeps = {}) {
  const env = envFor(config, deps);
  return async (raw: unknown, ctx: DurableContext): Promise<BackfillHandlerResult> => {
    const parsed = BackfillEventSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = formatIssues(parsed.error.issues, '(event)');
      logger.error('rejected backfill input', { rejection: { reason: 'invalid-input', issues } });
      return { status: 'invalid', message: EXPECTED, issues };
    }
    const event = parsed.data;
    const plan = await ctx.step('plan', async () => resolvePlan(env, event));
    if ('invalid' in plan) {
      logger.error('rejected backfill input', { rejection: { reason: 'invalid-accounts', issues: [plan.invalid] } });
      return { status: 'invalid', message: EXPECTED, issues: [plan.invalid] };
    }
    const batch = await ctx.map('units', plan.units, async (c, unit) => runUnit(env, c, event, plan, unit), {
      maxConcurrency: event.concurrency ?? 20,
      completionConfig: { toleratedFailureCount: plan.toleratedFailures },
      itemNamer: (unit) => unitLabel(unit),
    });
    return ctx.step('summary', async () => finishRun(env, event, plan, batch));
  };
}

/** The backfill function: configuration read at cold start, a durable execution wrapped like every function. */
export function backfillFunction(config: Config = loadConfig()) {
  return lambda(withDurableExecution(makeBackfillHandler(config)));
}
