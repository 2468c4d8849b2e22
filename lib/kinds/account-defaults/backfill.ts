// The account defaults kind's part in a backfill: one per Region, reported, never changed by a scan or an
// enforce (imds-guard account-defaults --apply changes them).
import { arn, recordFor, type AuditRecord, type AuditResource } from '../../domain/audit.js';
import { errorOf } from '../../domain/errors.js';
import type { Trigger } from '../../domain/cloudtrail.js';
import type { RegionContext } from '../../shell/region-context.js';
import { basePolicy } from '../../shell/settings.js';
import type { BackfillSection } from '../types.js';
import { getMetadataDefaults } from './aws.js';
import { defaultsAsOptions, evaluateDefaults, type AccountDefaults, type DefaultsPosture } from './policy.js';

/**
 * The audit record of a Region's account defaults.
 *
 * @example
 * accountDefaultsRecord(ctx, trigger, defaults, posture, { mode: 'dry-run', outcome: 'reported', reason: '...' });
 */
export function accountDefaultsRecord(
  ctx: Pick<RegionContext, 'region' | 'settings'>,
  trigger: Trigger,
  d: AccountDefaults,
  posture: DefaultsPosture,
  facts: Pick<AuditRecord, 'mode' | 'outcome'> & Partial<Pick<AuditRecord, 'after' | 'desired' | 'reason' | 'error' | 'requestId'>>,
): AuditRecord {
  return recordFor(defaultsResource(ctx, trigger), {
    trigger,
    ...facts,
    before: defaultsAsOptions(d),
    violations: posture.violations,
    notes: posture.notes,
    details: { defaults: d, managedByPolicy: posture.managedByPolicy, ...(posture.change ? { change: posture.change } : {}) },
  });
}

/** The account's instance metadata defaults in one Region, as audit records name them (owned by the default owner). */
function defaultsResource(ctx: Pick<RegionContext, 'region' | 'settings'>, trigger: Trigger): AuditResource {
  return {
    type: 'account-defaults',
    id: `account-defaults/${ctx.region}`,
    arn: arn(ctx.region, 'ec2', trigger.account, 'instance-metadata-defaults'),
    region: ctx.region,
    account: trigger.account,
    owner: ctx.settings.defaultOwner,
    name: 'instance metadata defaults',
  };
}

/**
 * The record of a Region whose account defaults could not be read: one failed record, so the rest of the Region
 * is still scanned (and reported) and the run exits 1 naming what could not be checked.
 *
 * @example
 * accountDefaultsReadFailed(ctx, trigger, 'dry-run', err).outcome; // => 'failed'
 */
export function accountDefaultsReadFailed(
  ctx: Pick<RegionContext, 'region' | 'settings'>,
  trigger: Trigger,
  mode: AuditRecord['mode'],
  err: unknown,
): AuditRecord {
  return recordFor(defaultsResource(ctx, trigger), {
    trigger,
    mode,
    outcome: 'failed',
    error: errorOf(err),
    reason: 'GetInstanceMetadataDefaults failed: the account defaults were not checked (needs ec2:GetInstanceMetadataDefaults)',
  });
}

function reasonOf(p: DefaultsPosture): string {
  return p.compliant
    ? 'account defaults require tokens and a compliant hop limit'
    : p.managedByPolicy
      ? 'managed by a declarative policy; change it in AWS Organizations'
      : 'scan and enforce do not change account defaults: run imds-guard account-defaults --apply';
}

export const accountDefaultsBackfill: BackfillSection<string, never> = {
  include: 'accountDefaults',
  discover: async (s) => ({ targets: [s.ctx.region] }),
  async plan(targets, s) {
    if (targets.length === 0) return { records: [], ready: [] };
    let defaults: AccountDefaults;
    try {
      defaults = await getMetadataDefaults(s.ctx.clients.ec2);
    } catch (err) {
      const failed = accountDefaultsReadFailed(s.ctx, s.trigger, 'dry-run', err);
      s.record?.(failed);
      return { records: [failed], ready: [] };
    }
    const posture = evaluateDefaults(defaults, basePolicy(s.config));
    const record = accountDefaultsRecord(s.ctx, s.trigger, defaults, posture, {
      mode: 'dry-run',
      outcome: posture.compliant ? 'compliant' : 'reported',
      reason: reasonOf(posture),
    });
    s.record?.(record);
    return { records: [record], ready: [], facts: { accountDefaults: { defaults, posture } } };
  },
};
