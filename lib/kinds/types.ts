// The contract every resource kind meets. A kind lives in lib/kinds/<kind>/: events.ts (its CloudTrail
// parsers), aws.ts (its SDK calls), <kind>.ts and enforce.ts (the verbs find, evaluate, remediate,
// describe, enforce), kind.ts (this contract, wired). lib/kinds/index.ts lists the kinds.
import type { AuditRecord, ResourceType } from '../domain/audit.js';
import type { Ignored, Invalid, Trigger } from '../domain/cloudtrail.js';
import type { Config } from '../shell/config.js';
import type { RegionContext } from '../shell/region-context.js';

/** A CloudTrail event, parsed: targets to enforce, or why not. */
export type ParsedEvent<T> = { kind: 'targets'; trigger: Trigger; targets: T[] } | Ignored | Invalid;

/** What a kind's enforce needs for one event: the Region's context, the configuration, the time left. */
export interface KindRun {
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
