// stdout renderings of a run: a table for people, JSON and CSV for tools. Pure.
import type { AuditRecord } from '../lib/domain/audit.js';
import { countByOutcome, QUIET_OUTCOMES } from '../lib/domain/audit.js';
import type { MetadataOptions } from '../lib/domain/policy.js';
import { allRecords, type BackfillResult } from '../lib/runs/run.js';
import { leftNonCompliant } from '../lib/report/left.js';
import { renderOcsf } from './ocsf.js';
import { csvOf } from './csv.js';

export { CSV_COLUMNS } from './csv.js';
import { countsLine, countsByType } from '../lib/report/summary.js';
import { type Display, PLAIN, paintOutcome as paint } from './display.js';
import { commandLines, grid, liftCommands } from './table.js';

export type OutputFormat = 'table' | 'json' | 'csv' | 'ocsf';

export interface RenderInput {
  command: string;
  result: BackfillResult;
  exitCode: number;
  /** Table only: also list compliant and out-of-scope rows. */
  all?: boolean;
  /** Records a revert did not act on, with why. */
  skipped?: { id: string; reason: string }[];
  /** Table only: width, colour, --quiet (default PLAIN). */
  display?: Display;
  /** Commands that undo this run's changes (they run as printed). */
  undo?: string[];
}

function options(o: MetadataOptions | undefined, type?: string): string {
  if (type === 'account-defaults' && o && !o.httpTokens && o.hopLimit === undefined && !o.httpEndpoint) return 'no preference';
  if (!o || Object.keys(o).length === 0) return '-';
  if (o.httpEndpoint === 'disabled') return 'IMDS disabled';
  return `tokens=${o.httpTokens ?? '?'} hop=${o.hopLimit ?? '?'}`;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function where(r: AuditRecord): string {
  const { cluster, nodegroup } = r.resource;
  return cluster ? (nodegroup && r.resource.type !== 'nodegroup' ? `${cluster}/${nodegroup}` : cluster) : '-';
}

/** An org-wide run (units in member accounts) shows each row's account first. */
const orgWide = (result: BackfillResult) => result.regions.some((r) => r.account);

function findingsTable(shown: AuditRecord[], d: Display, accounts: boolean): string {
  const account = (r: AuditRecord) => (accounts ? [r.resource.account] : []);
  const rows: [string[], ...string[][]] = [
    [...(accounts ? ['ACCOUNT'] : []), 'REGION', 'TYPE', 'ID', 'CLUSTER', 'OUTCOME', 'BEFORE', 'AFTER', 'REASON'],
    ...shown.map((r) => [
      ...account(r),
      r.resource.region,
      r.resource.type,
      r.resource.id,
      where(r),
      r.outcome,
      options(r.before, r.resource.type),
      options(r.after ?? r.desired, r.resource.type),
      r.error ? `${r.error.name}: ${r.error.message}` : (r.reason ?? ''),
    ]),
  ];
  const OUTCOME = rows[0].indexOf('OUTCOME');
  const lifted = liftCommands(rows, rows[0].length - 1);
  const painted = lifted.rows.map((row, i) => (i === 0 ? row : row.map((v, c) => (c === OUTCOME ? paint(d, v) : v))));
  return [grid(d, painted as [string[], ...string[][]]), ...commandLines(lifted.commands, d)].join('\n');
}

function identityLines(result: BackfillResult, d: Display): string[] {
  const identity = result.regions.flatMap((r) => r.identity.map((x) => ({ region: r.region, ...x })));
  if (!identity.length) return [];
  return [
    '',
    'Workload identity (hop limit 1 cuts pods off the node role):',
    grid(d, [
      ['REGION', 'CLUSTER', 'IRSA', 'POD IDENTITY', 'READY'],
      ...identity.map((x) => [
        x.region,
        x.cluster,
        x.irsa ? 'yes' : 'no',
        x.podIdentityAgent ? `agent, ${x.podIdentityAssociations} assoc.` : 'no agent',
        x.error
          ? `unknown (${clip(x.error, 60)})`
          : x.irsa || (x.podIdentityAgent && x.podIdentityAssociations > 0)
            ? 'yes'
            : 'NO: move pods to IRSA/Pod Identity first',
      ]),
    ]),
  ];
}

function summaryLines(result: BackfillResult): string[] {
  const out = ['', 'Summary:'];
  for (const r of result.regions) {
    const where = r.account ? `${r.account}/${r.region}` : r.region;
    if (r.error) out.push(`  ${where}: ERROR ${r.error.name}: ${r.error.message}`);
    else {
      out.push(`  ${where}: ${countsLine(countByOutcome(r.records))}`);
      for (const n of r.notes) out.push(`    note: ${n}`);
      if (r.continuation)
        out.push(`    stopped early: ${r.continuation.remaining} instances after ${r.continuation.afterInstanceId} remain`);
    }
  }
  return out;
}

function renderTable(i: RenderInput): string {
  const { result } = i;
  const d = i.display ?? PLAIN;
  if (d.quiet) return `${exitLine(i)}\n`;
  const records = allRecords(result);
  const shown = i.all ? records : records.filter((r) => !QUIET_OUTCOMES.includes(r.outcome));
  const out: string[] = [];
  out.push(`imds-guard ${i.command}  run ${result.run.runId}  account ${result.run.account}  as ${result.run.actor}`);
  if (result.mode === 'dry-run') out.push('dry run: nothing was changed');
  out.push('');
  if (shown.length) out.push(findingsTable(shown, d, orgWide(result)));
  else out.push(records.length ? 'No findings.' : 'Nothing in scope.');
  out.push(...identityLines(result, d), ...summaryLines(result));
  const hidden = records.length - shown.length;
  if (hidden > 0) out.push(`  (${hidden} compliant or out-of-scope rows hidden; --all lists them)`);
  for (const s of i.skipped ?? []) out.push(`  skipped ${s.id}: ${s.reason}`);
  if (i.undo?.length) out.push('', ...i.undo.map((c) => `To undo: ${c}`));
  if (result.declined) out.push('', 'Aborted: nothing was changed.');
  out.push('', exitLine(i));
  return `${out.join('\n')}\n`;
}

function exitLine(i: RenderInput): string {
  const c = countByOutcome(allRecords(i.result));
  if (i.command === 'revert') {
    return i.exitCode === 0
      ? 'Exit 0: every selected instance was handled.'
      : i.exitCode === 1
        ? `Exit 1: ${c.failed ?? 0} revert(s) failed.`
        : 'Exit 2: the run did not complete (see the errors above).';
  }
  switch (i.exitCode) {
    case 0:
      return 'Exit 0: nothing in scope is left out of policy.';
    case 1:
      return leftLines(allRecords(i.result), c);
    default:
      return 'Exit 2: the run did not complete (see the errors above).';
  }
}

/** Exit 1 names what is left out of policy and who must act on it (the owner each record routes to). */
function leftLines(records: AuditRecord[], c: ReturnType<typeof countByOutcome>): string {
  const left = records.filter((r) => leftNonCompliant(r, 'any'));
  const parts = [c['would-remediate'] ? `${c['would-remediate']} would change` : '', c.failed ? `${c.failed} failed` : ''];
  const fixable = parts.some(Boolean) ? ` (${parts.filter(Boolean).join(', ')})` : '';
  const head = `Exit 1: ${left.length} resource(s) in scope left out of policy${fixable}:`;
  const lines = left.slice(0, 20).map((r) => {
    const who = r.outcome === 'reported' ? `owner ${r.resource.owner} must act` : `owner ${r.resource.owner}`;
    const why = r.error ? `${r.error.name}: ${r.error.message}` : (r.reason ?? '');
    return `  ${r.outcome} ${r.resource.type} ${r.resource.id} (${r.resource.region}), ${who}${why ? `: ${clip(why, 160)}` : ''}`;
  });
  return [head, ...lines, ...(left.length > 20 ? [`  …and ${left.length - 20} more (--output json lists them)`] : [])].join('\n');
}

function renderJson(i: RenderInput): string {
  const { result } = i;
  const records = allRecords(result);
  return `${JSON.stringify(
    {
      schema: 'imds-guard.cli/v1',
      command: i.command,
      run: result.run,
      mode: result.mode,
      exitCode: i.exitCode,
      ...(result.declined ? { declined: true } : {}),
      finishedAt: result.finishedAt,
      counts: countByOutcome(records),
      regions: result.regions.map(({ records: rs, ...r }) => ({ ...r, counts: countByOutcome(rs), byType: countsByType(rs) })),
      ...(i.skipped?.length ? { skipped: i.skipped } : {}),
      ...(result.rateLimit ? { rateLimit: result.rateLimit } : {}),
      records,
    },
    null,
    2,
  )}\n`;
}

/** `--output csv` (cli/csv.ts). */
export const renderCsv = (i: RenderInput): string => csvOf(i.result);

export function render(format: OutputFormat, i: RenderInput): string {
  if (format === 'ocsf') return renderOcsf(i);
  return format === 'json' ? renderJson(i) : format === 'csv' ? renderCsv(i) : renderTable(i);
}

/** `--out`: the full audit as JSON Lines, which `revert --audit` reads back. */
export function auditLines(result: BackfillResult): string {
  return allRecords(result)
    .map((r) => JSON.stringify(r))
    .map((l) => `${l}\n`)
    .join('');
}
