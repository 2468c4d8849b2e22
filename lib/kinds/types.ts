// The contract every resource kind meets. A kind lives in lib/kinds/<kind>/: events.ts (its CloudTrail
// parsers), aws.ts (its SDK calls), <kind>.ts and enforce.ts (the verbs find, evaluate, remediate,
// describe, enforce), kind.ts (this contract, wired). lib/kinds/index.ts lists the kinds.
import type { AuditRecord, ResourceType } from '../domain/audit.js';
import type { Ignored, Invalid, Trigger } from '../domain/cloudtrail.js';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../shell/config.js';
import type { RateLimiter } from '../shell/rate-limit.js';
import type { RegionContext } from '../shell/region-context.js';
import type { AccountDefaults, DefaultsPosture } from './account-defaults/policy.js';
import type { QueueItem } from './instance/queue-item.js';
import type { InstanceQuery } from './instance/scan.js';

/** A CloudTrail event, parsed: targets to enforce, or why not. */
export type ParsedEvent<T> = { kind: 'targets'; trigger: Trigger; targets: T[] } | Ignored | Invalid;

/** What a kind's enforce needs for one event: the Region's context, the configuration, the time left. */
interface KindRun {
  config: Config;
  ctx: RegionContext;
  /** Lambda's getRemainingTimeInMillis, when the run is an invocation. */
  remainingMs?: () => number;
  /** Called as each record is decided: the event handler logs it there, so a timed-out run still leaves it. */
  onRecord?: (r: AuditRecord) => void;
  /** Called for each change handed to the remediation queue (its record is the consumer's). */
  onQueued?: (item: { id: string }) => void;
}

/** A resource kind: its audit type, its place in reports, and (when events trigger it) its function's verbs. */
export interface Kind {
  type: ResourceType;
}

/**
 * A kind that a CloudTrail event triggers: lib/lambda/event-handler.ts turns it into a Lambda function.
 *
 * @example
 * export const handler = eventFunction(instanceKind); // functions/enforce-instances.ts
 */
export interface EventKind<T> extends Kind {
  parse(raw: unknown, selfRoleNames: string[]): ParsedEvent<T>;
  enforce(targets: T[], trigger: Trigger, run: KindRun): Promise<AuditRecord[]>;
}

/** One Region of a backfill as a kind's backfill section sees it (lib/runs builds it). */
export interface BackfillScope {
  config: Config;
  ctx: RegionContext;
  /** The run's client-side limiter on EC2, when there is one (chunk estimates). */
  limiter?: RateLimiter;
  trigger: Trigger;
  /** The cluster filter (empty: all). */
  clusters: string[];
  /**
   * The Region's EKS clusters after the filter, listed once (empty unless a section or identity needs them). A
   * section's `discover` sees them only when it sets `needsClusters` (the others start without waiting for EKS).
   */
  regionClusters: string[];
  query: InstanceQuery;
  /** Continue after this instance ID (a continuation link). */
  afterInstanceId?: string;
  /** IDs past `afterInstanceId` that the previous link handled already (its early first page): not again. */
  handled?: ReadonlySet<string>;
  /**
   * A run nobody confirms: `discover` may hand over a first part at once, with the rest to follow (`rest`), so
   * its changes start while the rest is still being listed.
   */
  early?: boolean;
  /** Called for every record as it is decided (progress bars, metrics). */
  record?: (r: AuditRecord) => void;
  /** Set: instance changes go onto the remediation queue instead of being made here. */
  queue?: { sqs: SQSClient; url: string; maxHopLimit: number };
  /** Called for every instance change sent to the queue, with the instance's launch time when known. */
  onQueued?: (item: QueueItem, launchTime?: string) => void;
}

/** What a section found in a Region: only Describe/List calls. */
export interface Discovered<T> {
  targets: T[];
  notes?: string[];
  /** DescribeInstances pages, for the report. */
  describeCalls?: number;
  /**
   * Only when the scope is `early`: the rest of what the section finds (none of `targets` again), listed when
   * called (once `targets` have been changed).
   */
  rest?: () => Promise<Discovered<T>>;
}

/** Region-level facts a plan learns besides its records (the summary reads them). */
export interface RegionFacts {
  accountDefaults?: { defaults: AccountDefaults; posture: DefaultsPosture };
}

/** A section's plan: dry-run records for every target, and what apply needs for each that would change. */
export interface SectionPlan<R> {
  records: AuditRecord[];
  ready: R[];
  facts?: RegionFacts;
}

/** The time budget of an apply (a Lambda link): stop starting chunks that would not finish in time. */
export interface ApplyLimits {
  deadline?: number;
  chunkSize?: number;
  marginMs?: number;
  now?: () => number;
}

/** Where the next link of a unit starts when the deadline stopped this one. */
export interface Continuation {
  /** Every instance ID <= this was handled. */
  afterInstanceId: string;
  remaining: number;
  /** IDs after `afterInstanceId` that were handled too (an early first page): the next link skips them. */
  handled?: string[];
}

export interface SectionApply {
  records: AuditRecord[];
  /** Set when the deadline stopped the run. */
  continuation?: Continuation;
}

/**
 * A kind's part in a backfill: discover, plan (a dry run: the report a scan prints) and apply what the plan
 * says would change. lib/runs iterates these over the registry; a plan carries what its apply needs.
 *
 * @example
 * const found = await section.discover(scope);
 * const plan = await section.plan(found.targets, scope);
 * const applied = await section.apply?.(plan.ready, scope, [], {});
 */
export interface BackfillSection<T = unknown, R = unknown> {
  /** Its switch in a backfill request's `include` (`instances`, `templates`, ...). */
  include: string;
  /** Discovery needs the Region's EKS clusters. */
  needsClusters?: boolean;
  /** With an `early` scope, discover returns a small first part at once and the rest as `rest`. */
  early?: boolean;
  /** Records sort by resource ID within the kind (else in discovery order). */
  sortById?: boolean;
  /** Kinds whose apply finishes before this one starts; their records reach `apply` as `earlier`. */
  after?: ResourceType[];
  discover(s: BackfillScope): Promise<Discovered<T>>;
  plan(targets: T[], s: BackfillScope): Promise<SectionPlan<R>>;
  /** Absent: the kind is only reported by a backfill (account defaults). */
  apply?(ready: R[], s: BackfillScope, earlier: AuditRecord[], limits: ApplyLimits): Promise<SectionApply>;
}

/** A kind with its backfill section: what the registry lists. */
export interface RegisteredKind extends Kind {
  // biome-ignore lint/suspicious/noExplicitAny: each kind's section has its own target and plan types.
  backfill?: BackfillSection<any, any>;
}
