// backfill: invoked by hand with {mode, regions?, scope?, clusters?}. The first invocation fans out
// one asynchronous child per Region (self-invocation); a child whose Region does not fit in one
// invocation hands over to a continuation child with the last instance ID it handled. The last
// link of each Region publishes that Region's summary. See docs/backfill.md for why not Step Functions.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { STSClient } from '@aws-sdk/client-sts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
// zod/mini, as lib/shell/config.ts: classic zod would add ~440 KB to the bundle.
import * as z from 'zod/mini';
import { ec2Client, regionOfArn, snsClient } from '../shell/clients.js';
import { listEnabledRegions } from '../kinds/instance/scan.js';
import { RateLimiter } from '../shell/rate-limit.js';
import { publishMessages } from '../report/sns.js';
import { loadConfig, requireTopic, type Config } from '../shell/config.js';
import { callerIdentity, newRunId, type RunInfo } from '../runs/context.js';
import { INCLUDE_ALL, INSTANCES_ONLY } from '../runs/discover.js';
import { runBackfill } from '../runs/run.js';
import { REGION_NAME } from '../domain/region.js';
import { errorOf } from '../domain/errors.js';
import { formatIssues } from '../domain/issues.js';
import { addCounts, regionSummary, renderSummaryMessage, summarize, type Counts } from '../report/summary.js';
import { logger, metrics } from '../shell/observability.js';
import { auditLog, report } from '../report/report.js';
import { lambda } from './wrap.js';

const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/** Counted when a fan-out starts some Regions but not all; infra/backfill.yml alarms on it. */
export const REGIONS_NOT_STARTED_METRIC = 'backfillRegionsNotStarted';
/** A chain longer than this is a bug or a runaway: stop and say so. */
export const MAX_LINKS = 50;
/** Kept back from the invocation's time for reporting, publishing and the hand-over. */
export const SAFETY_MS = 90_000;

const regionName = (msg?: string) => z.string().check(z.regex(REGION_NAME, msg ?? 'not an AWS Region name'));
const count = z.number().check(z.int(), z.gte(0));

const ChildSchema = z.strictObject({
  runId: z.string().check(z.regex(/^imds-guard-[\w-]+$/)),
  region: regionName(),
  link: z.number().check(z.int(), z.gte(0), z.lte(MAX_LINKS)),
  account: z.string().check(z.regex(/^\d{12}$/)),
  actor: z.string().check(z.minLength(1)),
  startedAt: z.string().check(z.minLength(1)),
  afterInstanceId: z.optional(z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/))),
  counts: z._default(z.record(z.string(), count), {}),
  identityNotReady: z._default(z.array(z.string()), []),
  accountDefaultsCompliant: z.optional(z.boolean()),
});

export const BackfillEventSchema = z.strictObject({
  mode: z.enum(['scan', 'enforce', 'dry-run']),
  regions: z.optional(
    z.pipe(
      z.array(regionName()).check(z.minLength(1), z.maxLength(50)),
      z.transform((r: string[]) => [...new Set(r)]),
    ),
  ),
  scope: z.optional(z.enum(['eks', 'all'])),
  clusters: z.optional(z.array(z.string().check(z.regex(EKS_NAME, 'not an EKS cluster name'))).check(z.maxLength(100))),
  rollout: z.optional(z.boolean()),
  query: z.optional(z.enum(['inventory', 'violations'])),
  /** Set only by the function itself on the events it sends to its children. */
  child: z.optional(ChildSchema),
});

export type BackfillEvent = z.infer<typeof BackfillEventSchema>;
type Child = z.infer<typeof ChildSchema>;

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
  | { status: 'continued'; runId: string; region: string; link: number; afterInstanceId: string; remaining: number; counts: Counts }
  | { status: 'done'; runId: string; region: string; link: number; counts: Counts; error?: { name: string; message: string } };

export interface BackfillDeps {
  lambda?: LambdaClient;
  sts?: STSClient;
  limiter?: RateLimiter;
  now?: () => number;
}

export class FanOutError extends Error {
  override name = 'FanOutError';
}

export function makeBackfillHandler(config: Config, deps: BackfillDeps = {}) {
  const topicArn = requireTopic(config);
  // One limiter per container: AWS's buckets are per account and Region, and a container serves one chain at a time.
  const limiter = deps.limiter ?? new RateLimiter();
  const now = deps.now ?? Date.now;
  let lambdaClient = deps.lambda;
  const lambdaFor = (region: string) => (lambdaClient ??= new LambdaClient({ region, maxAttempts: config.MAX_ATTEMPTS }));
  const sns = () => snsClient(regionOfArn(topicArn), { maxAttempts: config.MAX_ATTEMPTS });
  const home = () => process.env.AWS_REGION ?? regionOfArn(topicArn);

  const invoke = async (functionArn: string, payload: BackfillEvent) => {
    await lambdaFor(regionOfArn(functionArn)).send(
      new InvokeCommand({ FunctionName: functionArn, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
    );
  };

  async function fanOut(event: BackfillEvent, context: Context): Promise<BackfillHandlerResult> {
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
    const failed = regions.filter((_, i) => settled[i]!.status === 'rejected');
    const started = regions.filter((r) => !failed.includes(r));
    logger.info('backfill fanned out', { backfill: { runId, mode: event.mode, regions, failed } });
    if (!failed.length) return { status: 'fanned-out', runId, regions, invocations: regions.length };

    const first = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
    const why = `could not start Region(s) ${failed.join(', ')} (${errorOf(first.reason).message}); started ${started.join(', ') || 'none'}. Invoke again with "regions": ${JSON.stringify(failed)}`;
    // Nothing started: failing the invocation is safe, since Lambda's retry starts the whole run again.
    if (!started.length) throw new FanOutError(`run ${runId}: ${why}.`);
    // Some Regions already run: a retry would start them twice. Keep the rest in the audit trail instead:
    // a summary per Region not started (a failed publish still fails the invocation), an error log and
    // the backfillRegionsNotStarted metric, which alarms.
    const run = { runId, account: caller.account, actor: caller.arn, startedAt, eventName: event.mode === 'scan' ? 'Scan' : 'Backfill' };
    const error = { name: 'FanOutError', message: why };
    const mode = event.mode === 'enforce' ? 'enforce' : 'dry-run';
    const finishedAt = new Date(now()).toISOString();
    await publishMessages(
      sns(),
      topicArn,
      failed.map((region) =>
        renderSummaryMessage(
          summarize(run, mode, [{ ...regionSummary({ region, records: [] }), error }], finishedAt),
          config.DEFAULT_OWNER,
        ),
      ),
    );
    logger.error('backfill Regions not started', { backfill: { runId, failed, error } });
    metrics.addMetric(REGIONS_NOT_STARTED_METRIC, MetricUnit.Count, failed.length);
    return { status: 'fanned-out', runId, regions: started, invocations: started.length, notStarted: failed, error };
  }

  async function runChild(event: BackfillEvent, child: Child, context: Context): Promise<BackfillHandlerResult> {
    const cfg: Config = {
      ...config,
      ...(event.scope ? { SCOPE: event.scope } : {}),
      ...(event.rollout !== undefined ? { ROLLOUT: event.rollout } : {}),
    };
    const run: RunInfo = {
      runId: child.runId,
      account: child.account,
      actor: child.actor,
      startedAt: child.startedAt,
      source: 'backfill',
      eventName: event.mode === 'scan' ? 'Scan' : 'Backfill',
    };
    // Records are logged as they are decided where they are final (a dry run; the apply phase), the rest at the end.
    const log = auditLog();
    let final = event.mode !== 'enforce';
    const result = await runBackfill({
      config: cfg,
      run,
      limiter,
      hooks: { phase: (_r, phase) => void (final ||= phase === 'apply'), record: (_r, rec) => final && log.now(rec) },
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
    const region = result.regions[0]!;
    // Every record is an audit log line; owners hear about PUBLISH_OUTCOMES.
    log.rest(region.records);
    const rep = await report(region.records, sns(), topicArn, config.PUBLISH_OUTCOMES);
    const rs = regionSummary(region);
    const counts = addCounts(child.counts as Counts, rep.counts);
    const identityNotReady = [...new Set([...child.identityNotReady, ...rs.identityNotReady])];
    const accountDefaultsCompliant = rs.accountDefaultsCompliant ?? child.accountDefaultsCompliant;
    const base = { runId: child.runId, region: child.region, link: child.link };

    if (region.continuation && !region.error && child.link + 1 < MAX_LINKS) {
      const next: Child = {
        ...child,
        link: child.link + 1,
        afterInstanceId: region.continuation.afterInstanceId,
        counts,
        identityNotReady,
        ...(accountDefaultsCompliant !== undefined ? { accountDefaultsCompliant } : {}),
      };
      await invoke(context.invokedFunctionArn, { ...event, child: next });
      logger.info('backfill continues', {
        backfill: { ...base, afterInstanceId: next.afterInstanceId, remaining: region.continuation.remaining },
      });
      return {
        status: 'continued',
        ...base,
        afterInstanceId: region.continuation.afterInstanceId,
        remaining: region.continuation.remaining,
        counts,
      };
    }

    const error =
      region.error ??
      (region.continuation
        ? {
            name: 'TooManyLinks',
            message: `stopped after ${MAX_LINKS} invocations with ${region.continuation.remaining} instances left; run the backfill again`,
          }
        : undefined);
    const summary = summarize(
      run,
      result.mode,
      [
        {
          ...rs,
          counts,
          byType: rs.byType,
          identityNotReady,
          ...(accountDefaultsCompliant !== undefined ? { accountDefaultsCompliant } : {}),
          ...(error ? { error } : {}),
          links: child.link + 1,
        },
      ],
      new Date(now()).toISOString(),
    );
    await publishMessages(sns(), topicArn, [renderSummaryMessage(summary, config.DEFAULT_OWNER)]);
    logger.info('backfill region complete', { backfill: { ...base, counts, ...(error ? { error } : {}) } });
    return { status: 'done', ...base, counts, ...(error ? { error } : {}) };
  }

  return async (raw: unknown, context: Context): Promise<BackfillHandlerResult> => {
    const parsed = BackfillEventSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = formatIssues(parsed.error.issues, '(event)');
      logger.error('rejected backfill input', { rejection: { reason: 'invalid-input', issues } });
      return {
        status: 'invalid',
        message: 'expected {"mode": "scan"|"enforce"|"dry-run", "regions"?: [...], "scope"?: "eks"|"all", "clusters"?: [...]}',
        issues,
      };
    }
    const event = parsed.data;
    return event.child ? runChild(event, event.child, context) : fanOut(event, context);
  };
}

/** The backfill function: configuration read at cold start, wrapped like every function (wrap.ts). */
export function backfillFunction(config: Config = loadConfig()) {
  return lambda(makeBackfillHandler(config));
}
