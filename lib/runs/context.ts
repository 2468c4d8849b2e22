// What a backfill run needs per Region: the same RegionContext the event handlers use, with the
// client-side rate limiter plugged into EC2, plus the run's identity (who, which account, run id).
import { randomBytes } from 'node:crypto';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { RateLimiter } from '../shell/rate-limit.js';
import type { Config } from '../shell/config.js';
import type { Trigger } from '../domain/cloudtrail.js';
import { regionContext, type RegionContext } from '../shell/region-context.js';

/** One backfill run: every record it writes carries this trigger (with the Region filled in). */
export interface RunInfo {
  runId: string;
  account: string;
  /** The caller's ARN (sts GetCallerIdentity). */
  actor: string;
  startedAt: string;
  source: 'backfill' | 'cli';
  /** `Scan`, `Enforce`, `Backfill`, `Revert`, `AccountDefaults`. */
  eventName: string;
}

export function newRunId(now = new Date()): string {
  return `imds-guard-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** The trigger of a run's records in one Region; `account` is the member account a unit runs in (default the run's). */
export function triggerFor(run: RunInfo, region: string, account = run.account): Trigger {
  return {
    source: run.source,
    eventName: run.eventName,
    eventId: run.runId,
    eventTime: run.startedAt,
    actor: run.actor,
    region,
    account,
  };
}

export interface Caller {
  account: string;
  arn: string;
}

/** Who is calling: fails fast (two attempts) so a missing credential is reported at once. */
export async function callerIdentity(region: string, sts: STSClient = new STSClient({ region, maxAttempts: 2 })): Promise<Caller> {
  const out = await sts.send(new GetCallerIdentityCommand({}));
  if (!out.Account || !out.Arn) throw Object.assign(new Error('GetCallerIdentity returned no account'), { name: 'NoCallerIdentity' });
  return { account: out.Account, arn: out.Arn };
}

/** A Region's clients and policy (with the node group index for templates), and the rate limiter on EC2. */
export interface BackfillContext extends RegionContext {
  limiter?: RateLimiter;
}

/** Which account a unit acts in: `account` through its member role, unless it is `home` (the caller's own). */
export interface UnitAccess {
  account?: string | undefined;
  home?: string;
  /** The run id, for the AssumeRole session name. */
  eventId?: string;
}

/**
 * A unit's context: in `access.account` (through the member role) when given, else with the caller's own credentials.
 * @example
 * const ctx = backfillContext(config, 'eu-west-1', new RateLimiter(), { account: '444455556666', home: '111122223333' });
 */
export function backfillContext(config: Config, region: string, limiter?: RateLimiter, access: UnitAccess = {}): BackfillContext {
  const member = access.account && access.account !== access.home ? access.account : undefined;
  // The limiter plugs into EC2 only (clients.ts applies plugins to the EC2 client); EKS and IAM calls are few.
  const ctx = regionContext(config, region, {
    ...(limiter ? { plugins: [limiter.plugin(region, member)] } : {}),
    ...(member ? { account: member } : {}),
    ...(access.home ? { home: access.home } : {}),
    ...(access.eventId ? { eventId: access.eventId } : {}),
  });
  return { ...ctx, ...(limiter ? { limiter } : {}) };
}
