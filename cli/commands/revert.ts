// `imds-guard revert`: restore the MetadataOptions recorded as "before".
import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import type { AuditRecord } from '../../lib/domain/audit.js';
import { auditTableRef, readAuditRecords } from '../../lib/shell/audit-store.js';
import {
  itemsFromIds,
  parseAuditInput,
  parseBeforeSpec,
  RevertInputError,
  type RevertItem,
  revertRun,
  type Skipped,
  selectReverts,
} from '../../lib/runs/revert.js';
import type { BackfillResult } from '../../lib/runs/run.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { type ConfirmOpts, type ConnectionOpts, connection, list } from '../options.js';

interface RevertOpts extends ConnectionOpts, ConfirmOpts {
  audit?: string;
  event?: string;
  auditTable?: string;
  instances?: string[];
  before?: string;
}

interface Inputs {
  audit?: AuditRecord[];
  restore?: RevertItem['restore'];
}

function checkArgs(o: RevertOpts): void {
  if ([o.audit, o.event, o.instances].filter(Boolean).length !== 1)
    throw new UsageError(
      'revert takes one of --event EVENT_ID (with --audit-table or AUDIT_TABLE), --audit FILE, or --instances i-a,i-b (with --before)',
    );
  if (o.event && o.before) throw new UsageError('--before goes with --instances; with --event the recorded "before" is restored');
  if (o.instances && !o.before) throw new UsageError('--instances needs --before tokens=optional|required,hop=N[,endpoint=enabled]');
  if (o.audit && o.before) throw new UsageError('--before goes with --instances; with --audit the recorded "before" is restored');
  if (o.instances && o.regions && o.regions.length !== 1) throw new UsageError('--instances needs exactly one --regions value');
}

async function readInputs(o: RevertOpts): Promise<Inputs> {
  try {
    return {
      ...(o.audit ? { audit: parseAuditInput(await readFile(o.audit, 'utf8')) } : {}),
      ...(o.before ? { restore: parseBeforeSpec(o.before) } : {}),
    };
  } catch (err) {
    if (err instanceof RevertInputError) throw new UsageError(`${o.audit ? `${o.audit}: ` : ''}${err.message}`);
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${o.audit}: ${e.code ?? e.message}`);
  }
}

function listing(items: RevertItem[]): string {
  const shown = items.slice(0, 20).map((i) => `  ${i.region} ${i.instanceId} -> tokens=${i.restore.httpTokens} hop=${i.restore.hopLimit}`);
  const more = items.length > 20 ? `\n  …and ${items.length - 20} more` : '';
  return `\nRevert ${items.length} instance(s) to their recorded options (this may turn IMDSv1 back on):\n${shown.join('\n')}${more}\n`;
}

/** The records of one trigger, read back from the audit store (the table may be an ARN, which names its Region). */
async function eventRecords(o: RevertOpts, table: string | undefined, home: string): Promise<AuditRecord[]> {
  if (!table) throw new UsageError('--event needs --audit-table NAME (or AUDIT_TABLE): the audit store the records are kept in');
  const ref = auditTableRef(table);
  const db = new DynamoDBClient({ region: ref.region ?? home, maxAttempts: 3 });
  const records = await readAuditRecords(db, table, { eventId: o.event as string });
  if (!records.length) throw new UsageError(`no audit records for event ${o.event} in ${table}`);
  return records;
}

/** The audit's remediated records (in the Regions asked for), or the listed instances with the options to restore. */
function toRevert(o: RevertOpts, inputs: Inputs, region: string | undefined, account: string): { items: RevertItem[]; skipped: Skipped[] } {
  if (inputs.audit) {
    const { items, skipped } = selectReverts(inputs.audit, account);
    const wanted = o.regions;
    return { items: wanted ? items.filter((i) => wanted.includes(i.region)) : items, skipped };
  }
  // checkArgs and revert() make sure of these; the check keeps the types honest.
  if (!o.instances || !region || !inputs.restore) throw new UsageError('--instances needs --regions (or AWS_REGION) and --before');
  return { items: itemsFromIds(o.instances, region, inputs.restore), skipped: [] };
}

const exitOf = (result: BackfillResult): number =>
  result.regions.some((r) => r.error) ? 2 : result.regions.some((r) => r.records.some((x) => x.outcome === 'failed')) ? 1 : 0;

/**
 * Revert the remediations of an audit file, or set the given options on listed instances.
 * @example
 * const code = await revert(ctx, { output: 'json', audit: 'run.jsonl', yes: true });
 */
async function revert(ctx: CommandContext, o: RevertOpts): Promise<number> {
  checkArgs(o);
  const { audit, restore } = await readInputs(o);
  const confirm = ctx.mustConfirm('revert', o);
  const home = ctx.io.env.AWS_REGION ?? ctx.io.env.AWS_DEFAULT_REGION;
  const region = o.regions?.[0] ?? home;
  if (o.instances && !region) throw new UsageError('--instances needs --regions (or AWS_REGION)');
  const s = await ctx.session(
    'Revert',
    { ...o, regions: o.regions ?? [region ?? 'us-east-1'] },
    { ...(o.concurrency ? { CONCURRENCY: String(o.concurrency) } : {}), ...(o.auditTable ? { AUDIT_TABLE: o.auditTable } : {}) },
  );
  const records = o.event ? await eventRecords(o, s.config.AUDIT_TABLE, home ?? s.regions[0] ?? 'us-east-1') : audit;
  const { items, skipped } = toRevert(
    o,
    { ...(records ? { audit: records } : {}), ...(restore ? { restore } : {}) },
    region,
    s.run.account,
  );
  if (confirm && items.length) {
    ctx.io.stderr.write(listing(items));
    if (!(await ctx.ask('Revert? [y/N] '))) {
      ctx.errLine('aborted: nothing was changed');
      return 1;
    }
  }
  const result = await revertRun({ config: s.config, items, run: s.run, dryRun: !!o.dryRun, limiter: s.limiter });
  return ctx.finish('revert', o, result, exitOf(result), skipped);
}

/**
 * Adds `revert` to the program.
 * @example
 * registerRevert(program, ctx, (code) => (exit = code));
 */
export function registerRevert(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  connection(program.command('revert').description('restore the MetadataOptions recorded as "before" (may re-enable IMDSv1, on purpose)'))
    .option('--event <eventId>', 'every remediation of one trigger (a CloudTrail event ID or a run ID), read from the audit store')
    .option('--audit-table <name>', 'the audit store: a DynamoDB table name or ARN (default: AUDIT_TABLE)')
    .option('--audit <file>', 'a --out JSON Lines file or a saved imds-guard SNS message; records with outcome remediated are reverted')
    .option('--instances <ids>', 'comma-separated instance IDs (with --before)', (v: string) => list(v))
    .option('--before <spec>', 'options to restore for --instances: tokens=optional|required,hop=N[,endpoint=enabled|disabled]')
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'report what would be restored')
    .action(async (o: RevertOpts) => done(await revert(ctx, o)));
}
