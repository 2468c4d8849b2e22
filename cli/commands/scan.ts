// `imds-guard scan`: report what is out of policy; also the backfill run that enforce shares.
import { type Command, Option } from 'commander';
import type { FailOn } from '../../lib/report/left.js';
import { sendFindings } from '../../lib/shell/security-hub.js';
import { exitCode } from '../../lib/report/summary.js';
import { allRecords, type BackfillResult, type PlanOverview, runBackfill, unitLabel, unitsOf } from '../../lib/runs/run.js';
import { accountsFor } from '../accounts.js';
import type { CommandContext } from '../context.js';
import { type ConfirmOpts, type ScanOpts, scanning } from '../options.js';

export interface EnforceOpts extends ScanOpts, ConfirmOpts {
  rollout?: boolean;
  failOn?: FailOn;
}

/**
 * `--fail-on`: scan fails on anything left out of policy (default `any`); enforce on what it could not fix (`fixable`).
 * @example
 * failOnOption('any'); // the scan default
 */
export function failOnOption(fallback: FailOn): Option {
  return new Option('--fail-on <what>', 'exit 1 when anything in scope is out of policy (any) or only when imds-guard can fix it (fixable)')
    .choices(['any', 'fixable'])
    .default(fallback);
}

/** How many resources the confirmation lists before "and N more". */
const PLAN_LIST = 20;

export const scanOverrides = (o: ScanOpts): Record<string, string> => ({
  ...(o.scope ? { SCOPE: o.scope } : {}),
  ...(o.concurrency ? { CONCURRENCY: String(o.concurrency) } : {}),
  ...(o.maxHopLimit ? { MAX_HOP_LIMIT: String(o.maxHopLimit) } : {}),
  ...(o.identityGate ? { IDENTITY_GATE: o.identityGate } : {}),
});

/**
 * What enforce prints before asking: the change count per Region and resource type.
 * @example
 * planText({ total: 1, regions: [{ region: 'eu-west-1', changes: { instance: 1 } }] });
 * // 'imds-guard would change 1 resource(s):\n  eu-west-1: 1 instance'
 */
export function planText(plan: PlanOverview): string {
  const lines = plan.regions
    .filter((r) => Object.keys(r.changes).length)
    .map(
      (r) =>
        `  ${r.region}: ${Object.entries(r.changes)
          .map(([t, n]) => `${n} ${t}${n === 1 ? '' : 's'}`)
          .join(', ')}`,
    );
  const shown = plan.resources.slice(0, PLAN_LIST);
  const items = shown.map(
    (r) =>
      `    ${r.region}  ${r.type}  ${r.id}${r.name && r.name !== r.id ? ` (${r.name})` : ''}${r.cluster ? `  cluster ${r.cluster}` : ''}`,
  );
  const more = plan.resources.length - shown.length;
  if (more > 0) items.push(`    and ${more} more`);
  const list = items.length ? `\n  Resources:\n${items.join('\n')}` : '';
  return `imds-guard would change ${plan.total} resource(s):\n${lines.join('\n')}${list}`;
}

/**
 * Scan (dry run) or enforce every Region of the session; returns the exit code.
 * @example
 * const code = await backfill(ctx, 'scan', { output: 'json', cluster: [], query: 'inventory' });
 */
export async function backfill(ctx: CommandContext, command: 'scan' | 'enforce', o: EnforceOpts): Promise<number> {
  const dry = command === 'scan' || !!o.dryRun;
  const confirm = command === 'enforce' && ctx.mustConfirm('enforce', o);
  const s = await ctx.session(command === 'scan' ? 'Scan' : 'Enforce', o, {
    ...scanOverrides(o),
    ...(o.rollout ? { ROLLOUT: 'true' } : {}),
    MODE: dry ? 'dry-run' : 'enforce',
    ...(o.roleName ? { MEMBER_ROLE_NAME: o.roleName } : {}),
  });
  const accounts = await accountsFor(o, s.config.MAX_ATTEMPTS);
  const units = unitsOf({ regions: s.regions, ...(accounts ? { accounts } : {}) });
  if (accounts && ctx.io.stderr.isTTY && !o.quiet) ctx.io.stderr.write(`${accounts.length} accounts x ${s.regions.length} Regions\n`);
  const progress = ctx.progressFor(units.map(unitLabel), o.quiet);
  const where = accounts ? `${accounts.length} accounts` : `account ${s.run.account}`;
  const ask = async (plan: PlanOverview) => {
    progress.stop();
    ctx.io.stderr.write(`\n${planText(plan)}\n`);
    return ctx.ask(`Apply these ${plan.total} changes in ${where}? [y/N] `);
  };
  let result: BackfillResult;
  try {
    result = await runBackfill({
      config: s.config,
      run: s.run,
      limiter: s.limiter,
      hooks: progress.hooks,
      request: {
        mode: dry ? 'dry-run' : 'enforce',
        regions: s.regions,
        ...(accounts ? { accounts } : {}),
        clusters: o.cluster,
        query: o.query,
      },
      ...(confirm ? { confirm: ask } : {}),
    });
  } finally {
    progress.stop();
  }
  const records = allRecords(result);
  // The CLI sends findings itself (the functions leave it to publish-findings, on the audit topic).
  const sent = o.securityHub && records.length ? await sendFindings(records) : undefined;
  if (sent)
    ctx.errLine(
      `security hub: ${sent.imported} finding(s) imported, ${sent.failed} refused (logged), ${sent.workflowUpdated} workflow update(s)`,
    );
  return ctx.finish(command, o, result, exitCode(result.regions, o.failOn ?? (command === 'scan' ? 'any' : 'fixable')));
}

/**
 * Adds `scan` to the program.
 * @example
 * registerScan(program, ctx, (code) => (exit = code));
 */
export function registerScan(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  scanning(program.command('scan').description('report what is out of policy; changes nothing (exit 1 when violations are found)'))
    .addOption(failOnOption('any'))
    .action(async (o: EnforceOpts) => done(await backfill(ctx, 'scan', o)));
}
