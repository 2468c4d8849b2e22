// The types of a backfill run (lib/runs/run.ts): its request, its input (hooks, confirmation, queue), and what it
// returns per unit and in all. No code.
import type { InstanceQuery } from '../kinds/instance/scan.js';
import type { Continuation } from '../kinds/types.js';
import type { RateLimiter, RateLimiterStats } from '../shell/rate-limit.js';
import type { Config } from '../shell/config.js';
import type { AuditRecord } from '../domain/audit.js';
import type { AccountDefaults, DefaultsPosture } from '../kinds/account-defaults/policy.js';
import type { IdentityReadiness } from '../domain/identity.js';
import type { BackfillContext, RunInfo } from './context.js';
import type { Include } from './discover.js';
import type { ApplyOptions, Mode } from './region.js';

interface BackfillRequest {
  mode: Mode;
  regions: string[];
  /** Member accounts to run in (each through its member role); unset: the caller's own account. */
  accounts?: string[];
  /** Units (account x Region) in flight at once; default 32. */
  unitConcurrency?: number;
  /** Only these clusters (empty: all). */
  clusters: string[];
  query: InstanceQuery;
  include?: Include;
  /** Continue after this instance ID (a continuation run). */
  afterInstanceId?: string;
  /** IDs after `afterInstanceId` that the previous link handled already (Continuation.handled). */
  handled?: string[];
  /** Epoch ms by which the run must have stopped starting work (Lambda). */
  deadline?: number;
  chunkSize?: number;
}

export interface RegionResult {
  region: string;
  /** The member account the unit ran in (unset: the caller's own account). */
  account?: string;
  records: AuditRecord[];
  identity: IdentityReadiness[];
  accountDefaults?: { defaults: AccountDefaults; posture: DefaultsPosture };
  notes: string[];
  calls: { describeInstances: number };
  continuation?: Continuation;
  /** The Region could not be scanned (credentials, opt-in, API failure after retries). */
  error?: { name: string; message: string };
  durationMs: number;
}

export interface BackfillResult {
  run: RunInfo;
  mode: Mode;
  regions: RegionResult[];
  /** Enforce was planned but the operator said no: nothing was changed. */
  declined?: boolean;
  finishedAt: string;
  rateLimit?: RateLimiterStats;
}

type Phase = 'discover' | 'plan' | 'apply';

/** One unit of work: a Region, in a member account or (unset) the caller's own. */
export interface Unit {
  region: string;
  account?: string;
}

export interface RunHooks {
  /** A unit (its unitLabel) entered a phase; `total` is the number of records the phase will emit (when known). */
  phase?: (region: string, phase: Phase, total?: number) => void;
  record?: (region: string, r: AuditRecord) => void;
  /** A Region finished (or failed). */
  done?: (region: string, result: RegionResult) => void;
}

export interface PlanOverview {
  regions: { region: string; changes: Record<string, number> }[];
  total: number;
  /** Each resource that would change, in plan order. */
  resources: { region: string; type: string; id: string; name?: string; cluster?: string }[];
}

export interface BackfillInput {
  config: Config;
  request: BackfillRequest;
  run: RunInfo;
  limiter?: RateLimiter;
  hooks?: RunHooks;
  /**
   * Asked once, after every Region is planned and before anything changes (enforce mode only).
   * Not set: apply straight away (the Lambda, `--yes`).
   */
  confirm?: (plan: PlanOverview) => Promise<boolean>;
  /** Set: instance changes go onto the remediation queue (the stack's backfill and sweep). */
  queue?: ApplyOptions['queue'];
  /** Called for every instance change queued, with the instance's launch time when known. */
  onQueued?: (region: string, ...queued: Parameters<NonNullable<ApplyOptions['onQueued']>>) => void;
  /** Injected in tests; default backfillContext(config, region, limiter, account). */
  context?: (region: string, account?: string) => BackfillContext;
}
