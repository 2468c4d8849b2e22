// `imds-guard enforce`: fix what scan reports.
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { scanning } from '../options.js';
import { backfill, type EnforceOpts, failOnOption } from './scan.js';

/**
 * Adds `enforce` to the program.
 * @example
 * registerEnforce(program, ctx, (code) => (exit = code));
 */
export function registerEnforce(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  scanning(program.command('enforce').description('fix what scan reports (asks first on a terminal; --yes otherwise)'))
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'plan only: report what would change')
    .addOption(failOnOption('fixable'))
    .option('--rollout', 'also roll node groups onto the fixed launch template version (replaces their nodes)')
    .action(async (o: EnforceOpts) => done(await backfill(ctx, 'enforce', o)));
}
