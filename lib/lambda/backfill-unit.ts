// One unit (account x Region) of the durable backfill: each link runs the per-Region worker (lib/runs) in the
// unit's account, with the run's client-side buckets, until the invocation's deadline; logs and publishes its
// records; and returns a small, checkpointable outcome. A unit whose Region could not be run throws, so the
// durable step retries it and, in the end, counts it against the run's failure tolerance.
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Continuation } from '../kinds/types.js';
import type { RateLimiter } from '../shell/rate-limit.js';
import type { Config } from '../shell/config.js';
import type { AuditStore } from '../shell/audit-store.js';
import type { RunInfo } from '../runs/context.js';
import type { BackfillContext } from '../runs/context.js';
import { INCLUDE_ALL, INSTANCES_ONLY } from '../runs/discover.js';
import { runBackfill, type RegionResult, type Unit } from '../runs/run.js';
import { addCounts, regionSummary, sweepCounts, type Counts, type RegionSummary } from '../report/summary.js';
import { auditLog, report } from '../report/report.js';
import type { BackfillEvent } from './backfill-event.js';

/** Kept back from the invocation's time for reporting, publishing and checkpointing. */
export const SAFETY_MS = 90_000;

/** What the execution's first step fixes for every unit (checkpointed, so replays agree). */
export interface RunPlan {
  run: RunInfo;
  units: Unit[];
  toleratedFailures: number;
}

type Queued = { queued: number; missedByEvents: number; inFlight: number };

/** A unit's outcome so far: the summary line it contributes (counts, not records: checkpoints stay small). */
export type UnitOutcome = RegionSummary & { links: number; queued?: number; missedByEvents?: number; inFlight?: number };

export interface LinkResult {
  outcome: UnitOutcome;
  continuation?: Continuation;
}

/** What a link needs from the function's environment. */
export interface UnitEnv {
  config: Config;
  limiter: RateLimiter;
  topicArn: string;
  sns: () => import('@aws-sdk/client-sns').SNSClient;
  sqs: () => SQSClient;
  queueUrl: string | undefined;
  /** The audit store (AUDIT_TABLE) every record is kept in, when there is one; in the hub's account for member units. */
  store: AuditStore | undefined;
  /** Injected in tests; default backfillContext (through the member role for a member account). */
  context?: (region: string, account?: string) => BackfillContext;
}

/**
 * A unit the worker could not run (AssumeRole refused, Region not enabled, API failure after retries). A step's
 * checkpoint keeps an error's message only, so the message carries the name: `AccessDenied: …`.
 */
export class UnitError extends Error {
  override name = 'UnitError';
  constructor(cause: string, message: string) {
    super(`${cause}: ${message}`);
  }
}

/**
 * The name and message back from a checkpointed UnitError's message (anything else keeps its own name).
 * @example
 * unitErrorOf({ name: 'StepError', message: 'AccessDenied: not authorized' }); // { name: 'AccessDenied', message: 'not authorized' }
 */
export function unitErrorOf(e: { name: string; message: string }): { name: string; message: string } {
  const m = /^([A-Za-z][\w.]*): ([\s\S]*)$/.exec(e.message);
  return m ? { name: m[1] as string, message: m[2] as string } : { name: e.name, message: e.message };
}

function configFor(config: Config, event: BackfillEvent): Config {
  return {
    ...config,
    ...(event.scope ? { SCOPE: event.scope } : {}),
    ...(event.rollout !== undefined ? { ROLLOUT: event.rollout } : {}),
  };
}

/**
 * Run one link of a unit: enforce (or scan) what fits before `deadline`, through the queue when there is one;
 * log every record and publish owners' messages. Throws UnitError when the Region could not be run.
 * @example
 * const { outcome, continuation } = await runLink(env, event, plan.run, { region: 'eu-west-1' }, 0, undefined, deadline);
 * // the next link: runLink(env, event, plan.run, unit, 1, continuation, nextDeadline)
 */
export async function runLink(
  env: UnitEnv,
  event: BackfillEvent,
  run: RunInfo,
  unit: Unit,
  link: number,
  after: Pick<Continuation, 'afterInstanceId' | 'handled'> | undefined,
  deadline: number,
): Promise<LinkResult> {
  const cfg = configFor(env.config, event);
  const launched: { launchTime?: string | undefined }[] = [];
  // Records are logged as they are decided where they are final (a dry run; the apply phase), the rest at the end.
  const log = auditLog();
  let final = event.mode !== 'enforce';
  const result = await runBackfill({
    config: cfg,
    run,
    limiter: env.limiter,
    hooks: {
      phase: (_u, phase) => {
        if (phase === 'apply') final = true;
      },
      record: (_u, rec) => {
        if (final) log.now(rec);
      },
    },
    ...(env.context ? { context: env.context } : {}),
    ...(env.queueUrl ? { queue: { sqs: env.sqs(), url: env.queueUrl, maxHopLimit: cfg.MAX_HOP_LIMIT } } : {}),
    onQueued: (_region, _item, launchTime) => launched.push({ launchTime }),
    request: {
      mode: event.mode === 'enforce' ? 'enforce' : 'dry-run',
      regions: [unit.region],
      ...(unit.account ? { accounts: [unit.account] } : {}),
      clusters: event.clusters ?? [],
      query: event.query ?? 'inventory',
      include: link === 0 ? INCLUDE_ALL : INSTANCES_ONLY,
      ...(after ? { afterInstanceId: after.afterInstanceId } : {}),
      ...(after?.handled?.length ? { handled: after.handled } : {}),
      deadline,
    },
  });
  const region = result.regions[0] as RegionResult;
  log.rest(region.records);
  if (region.error) throw new UnitError(region.error.name, region.error.message);
  const rep = await report(region.records, env.sns(), env.topicArn, env.config.PUBLISH_OUTCOMES, { store: env.store });
  const sweep = event.sweep ? sweepCounts(launched, run.startedAt) : undefined;
  const outcome: UnitOutcome = {
    ...regionSummary(region),
    ...(unit.account ? { account: unit.account } : {}),
    counts: rep.counts,
    links: 1,
    ...(launched.length || sweep ? { queued: launched.length } : {}),
    ...(sweep ? { missedByEvents: sweep.missedByEvents, inFlight: sweep.inFlight } : {}),
  };
  return { outcome, ...(region.continuation ? { continuation: region.continuation } : {}) };
}

const sum = (a?: number, b?: number) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));

function addByType(a: RegionSummary['byType'], b: RegionSummary['byType']): RegionSummary['byType'] {
  const out = { ...a };
  for (const [t, c] of Object.entries(b) as [keyof typeof b, Counts][]) out[t] = addCounts(out[t] ?? {}, c);
  return out;
}

/**
 * A unit's outcome after one more link (the first link carries the identity and account-defaults facts).
 * @example
 * mergeOutcome(first.outcome, second.outcome).links; // 2
 */
export function mergeOutcome(a: UnitOutcome, b: UnitOutcome): UnitOutcome {
  const q: Partial<Queued> = {};
  for (const k of ['queued', 'missedByEvents', 'inFlight'] as const) {
    const v = sum(a[k], b[k]);
    if (v !== undefined) q[k] = v;
  }
  return {
    ...a,
    counts: addCounts(a.counts, b.counts),
    byType: addByType(a.byType, b.byType),
    identityNotReady: [...new Set([...a.identityNotReady, ...b.identityNotReady])],
    links: a.links + b.links,
    ...q,
  };
}
