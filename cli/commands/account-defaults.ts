// `imds-guard account-defaults`: check or set the account-level instance metadata defaults per Region.
import type { Command } from 'commander';
import { ENFORCED_WARNING } from '../../lib/kinds/account-defaults/policy.js';
import { exitCode } from '../../lib/report/summary.js';
import { accountDefaultsRun } from '../../lib/runs/account-defaults.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { type ConfirmOpts, type ConnectionOpts, connection, intIn } from '../options.js';

interface DefaultsOpts extends ConnectionOpts, ConfirmOpts {
  check?: boolean;
  apply?: boolean;
  httpTokensEnforced?: boolean;
  maxHopLimit?: number;
}

/**
 * Check (exit 1 when not compliant) or apply the account defaults in every Region of the session.
 * @example
 * const code = await accountDefaults(ctx, { output: 'table', check: true });
 */
async function accountDefaults(ctx: CommandContext, o: DefaultsOpts): Promise<number> {
  if (!o.check === !o.apply) throw new UsageError('account-defaults takes exactly one of --check or --apply');
  if (o.apply && o.httpTokensEnforced) ctx.io.stderr.write(`\n*** WARNING ***\n${ENFORCED_WARNING}\n\n`);
  const confirm = !!o.apply && ctx.mustConfirm('account-defaults --apply', o);
  const s = await ctx.session('AccountDefaults', o, { ...(o.maxHopLimit ? { MAX_HOP_LIMIT: String(o.maxHopLimit) } : {}) });
  if (confirm) {
    const enforced = o.httpTokensEnforced ? ' and HttpTokensEnforced=enabled' : '';
    const settings = `HttpTokens=required, HttpPutResponseHopLimit=${s.config.MAX_HOP_LIMIT}${enforced}`;
    const q = `Set ${settings} as the account default in ${s.regions.join(', ')}? [y/N] `;
    if (!(await ctx.ask(q))) {
      ctx.errLine('aborted: nothing was changed');
      return 1;
    }
  }
  const result = await accountDefaultsRun({
    config: s.config,
    run: s.run,
    limiter: s.limiter,
    request: { regions: s.regions, apply: !!o.apply, dryRun: !!o.dryRun, enforceTokens: !!o.httpTokensEnforced },
  });
  return ctx.finish('account-defaults', o, result, exitCode(result.regions));
}

/**
 * Adds `account-defaults` to the program.
 * @example
 * registerAccountDefaults(program, ctx, (code) => (exit = code));
 */
export function registerAccountDefaults(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  connection(program.command('account-defaults').description('check or set the account-level instance metadata defaults per Region'))
    .option('--check', 'report the posture (exit 1 when not compliant)')
    .option('--apply', 'set HttpTokens=required and HttpPutResponseHopLimit=<max>')
    .option('--http-tokens-enforced', 'also set HttpTokensEnforced=enabled (breaks launches from EKS default templates!)')
    .option('--max-hop-limit <n>', 'hop limit to set (default: MAX_HOP_LIMIT or 1)', intIn(1, 64))
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'with --apply: report what would change')
    .action(async (o: DefaultsOpts) => done(await accountDefaults(ctx, o)));
}
