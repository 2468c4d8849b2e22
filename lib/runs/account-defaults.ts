// `imds-guard account-defaults --check|--apply`: the account-level metadata defaults per Region.
import type { AuditRecord } from '../domain/audit.js';
import { getMetadataDefaults, putMetadataDefaults } from '../kinds/account-defaults/aws.js';
import type { Config } from '../shell/config.js';
import { applyDefaultsChange, defaultsAsOptions, evaluateDefaults, type DefaultsChange } from '../kinds/account-defaults/policy.js';
import { basePolicy } from '../shell/settings.js';
import type { RateLimiter } from '../shell/rate-limit.js';
import { backfillContext, triggerFor, type BackfillContext, type RunInfo } from './context.js';
import { accountDefaultsReadFailed, accountDefaultsRecord } from '../kinds/account-defaults/backfill.js';
import type { BackfillResult, RegionResult } from './run.js';
import { errorOf } from '../domain/errors.js';

export interface DefaultsRequest {
  regions: string[];
  apply: boolean;
  dryRun: boolean;
  /** Also set HttpTokensEnforced=enabled (breaks EKS default templates: see ENFORCED_WARNING). */
  enforceTokens: boolean;
}

export async function accountDefaultsRun(input: {
  config: Config;
  request: DefaultsRequest;
  run: RunInfo;
  limiter?: RateLimiter;
  context?: (region: string) => BackfillContext;
  onRegion?: (r: RegionResult) => void;
}): Promise<BackfillResult> {
  const { config, request: req, run } = input;
  const contextFor = input.context ?? ((region: string) => backfillContext(config, region, input.limiter));
  const mode = req.apply && !req.dryRun ? 'enforce' : 'dry-run';

  const done = (result: RegionResult) => {
    input.onRegion?.(result);
    return result;
  };
  const one = async (region: string): Promise<RegionResult> => {
    const started = performance.now();
    const base = { region, identity: [], notes: [], calls: { describeInstances: 0 } };
    try {
      const ctx = contextFor(region);
      const trigger = triggerFor(run, region);
      const read = await getMetadataDefaults(ctx.clients.ec2).then(
        (d) => ({ d }),
        (err: unknown) => ({ err }),
      );
      // As scan reports it: one failed record (exit 1), not a Region that did not run.
      if ('err' in read)
        return done({ ...base, records: [accountDefaultsReadFailed(ctx, trigger, mode, read.err)], durationMs: ms(started) });
      const defaults = read.d;
      const posture = evaluateDefaults(defaults, basePolicy(config), { enforceTokens: req.enforceTokens });
      const rec = (facts: Parameters<typeof accountDefaultsRecord>[4]) => accountDefaultsRecord(ctx, trigger, defaults, posture, facts);
      let record: AuditRecord;
      if (posture.compliant) record = rec({ mode, outcome: 'compliant', reason: 'account defaults meet the policy' });
      else if (!posture.change)
        record = rec({ mode, outcome: 'reported', reason: 'managed by a declarative policy; change it in AWS Organizations' });
      else {
        const after = defaultsAsOptions(applyDefaultsChange(defaults, posture.change));
        if (mode === 'dry-run') {
          record = rec({
            mode,
            outcome: 'would-remediate',
            desired: after,
            after,
            reason: `${req.apply ? 'dry run: ' : ''}would set ${settingText(posture.change)}`,
          });
        } else {
          try {
            const res = await putMetadataDefaults(ctx.clients.ec2, posture.change);
            record = rec({
              mode,
              outcome: 'remediated',
              desired: after,
              after,
              reason: `set ${settingText(posture.change)}`,
              ...res,
            });
          } catch (err) {
            record = rec({
              mode,
              outcome: 'failed',
              desired: after,
              error: errorOf(err),
              reason: 'ModifyInstanceMetadataDefaults failed',
            });
          }
        }
      }
      return done({ ...base, records: [record], accountDefaults: { defaults, posture }, durationMs: ms(started) });
    } catch (err) {
      return done({ ...base, records: [], error: errorOf(err), durationMs: ms(started) });
    }
  };

  const regions = await Promise.all(req.regions.map(one));
  return { run, mode, regions, finishedAt: new Date().toISOString(), ...(input.limiter ? { rateLimit: input.limiter.stats() } : {}) };
}

const ms = (started: number) => Math.round(performance.now() - started);

/** What a change sets, as owners read it. */
function settingText(c: DefaultsChange): string {
  return `HttpTokens=required, HttpPutResponseHopLimit=${c.hopLimit}${c.httpTokensEnforced ? ', HttpTokensEnforced=enabled' : ''}`;
}
