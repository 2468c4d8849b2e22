// `imds-guard report --html out.html`: scan (changes nothing), read the trend from the audit store when one is
// configured, and write one self-contained HTML page (lib/report/html.ts).
import { writeFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { renderHtmlReport } from '../../lib/report/html.js';
import { allRecords, runBackfill } from '../../lib/runs/run.js';
import { auditStoreFor, readAuditRecords } from '../../lib/shell/audit-store.js';
import type { CommandContext } from '../context.js';
import { type ScanOpts, scanning } from '../options.js';
import { scanOverrides } from './scan.js';

interface ReportOpts extends ScanOpts {
  html: string;
  auditTable?: string;
  since?: string;
}

function isoTime(v: string): string {
  if (Number.isNaN(Date.parse(v))) throw new InvalidArgumentError(`"${v}" is not an ISO time (e.g. 2026-11-01T00:00:00Z)`);
  return new Date(v).toISOString();
}

async function report(ctx: CommandContext, o: ReportOpts): Promise<number> {
  const s = await ctx.session('Report', o, { ...scanOverrides(o), ...(o.auditTable ? { AUDIT_TABLE: o.auditTable } : {}) });
  const progress = ctx.progressFor(s.regions, o.quiet);
  const result = await runBackfill({
    config: s.config,
    run: s.run,
    limiter: s.limiter,
    hooks: progress.hooks,
    request: { mode: 'dry-run', regions: s.regions, clusters: o.cluster, query: 'inventory' },
  }).finally(() => progress.stop());
  const store = auditStoreFor(s.config, s.regions[0] ?? 'us-east-1');
  const history = store
    ? { table: store.ref, records: await readAuditRecords(store.db, store.table, o.since ? { since: o.since } : {}) }
    : undefined;
  const records = allRecords(result);
  const page = renderHtmlReport({ account: s.run.account, generatedAt: result.finishedAt, records, ...(history ? { history } : {}) });
  await writeFile(o.html, page, 'utf8');
  const failed = result.regions.filter((r) => r.error);
  for (const r of failed) ctx.errLine(`${r.region}: ${r.error?.name}: ${r.error?.message}`);
  const trend = history ? `trend from ${history.records.length} audit store records` : 'no audit store: trend from this scan only';
  ctx.io.stdout.write(`Wrote ${o.html}: ${records.length} records, ${trend}.\n`);
  return failed.length ? 2 : 0;
}

/**
 * Adds `report` to the program.
 * @example
 * registerReport(program, ctx, (code) => (exit = code));
 */
export function registerReport(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  scanning(program.command('report').description('write an HTML report: compliance per Region and cluster, trend, what owners must act on'))
    .requiredOption('--html <file>', 'the page to write (self-contained: no network needed to open it)')
    .option('--audit-table <table>', 'the audit store to draw the trend from (name or ARN; default AUDIT_TABLE)')
    .option('--since <time>', 'trend from this ISO time (default 30 days ago)', isoTime)
    .action(async (o: ReportOpts) => done(await report(ctx, o)));
}
