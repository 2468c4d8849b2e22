// stdout renderings of a run: a table for people, JSON and CSV for tools. Pure.
import type { AuditRecord } from '../lib/domain/audit.js';
import { countByOutcome, QUIET_OUTCOMES } from '../lib/domain/audit.js';
import type { MetadataOptions } from '../lib/domain/policy.js';
import { allRecords, type BackfillResult } from '../lib/runs/run.js';
import { countsLine, countsByType } from '../lib/report/summary.js';

export type OutputFormat = 'table' | 'json' | 'csv';

export interface RenderInput {
  command: string;
  result: BackfillResult;
  exitCode: number;
  /** Table only: also list compliant and out-of-scope rows. */
  all?: boolean;
  /** Records a revert did not act on, with why. */
  skipped?: { id: string; reason: string }[];
}

function options(o: MetadataOptions | undefined, type?: string): string {
  if (type === 'account-defaults' && o && !o.httpTokens && o.hopLimit === undefined && !o.httpEndpoint) return 'no preference';
  if (!o || Object.keys(o).length === 0) return '-';
  if (o.httpEndpoint === 'disabled') return 'IMDS disabled';
  return `tokens=${o.httpTokens ?? '?'} hop=${o.hopLimit ?? '?'}`;
}

/** Columns padded to their widest cell; the header row sets the number of columns. */
function table(rows: [header: string[], ...body: string[][]]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function where(r: AuditRecord): string {
  const { cluster, nodegroup } = r.resource;
  return cluster ? (nodegroup && r.resource.type !== 'nodegroup' ? `${cluster}/${nodegroup}` : cluster) : '-';
}

/** An org-wide run (units in member accounts) shows each row's account first. */
const orgWide = (result: BackfillResult) => result.regions.some((r) => r.account);

function findingsTable(shown: AuditRecord[], accounts: boolean): string {
  const account = (r: AuditRecord) => (accounts ? [r.resource.account] : []);
  return table([
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
      clip(r.error ? `${r.error.name}: ${r.error.message}` : (r.reason ?? ''), 100),
    ]),
  ]);
}

function identityLines(result: BackfillResult): string[] {
  const identity = result.regions.flatMap((r) => r.identity.map((x) => ({ region: r.region, ...x })));
  if (!identity.length) return [];
  return [
    '',
    'Workload identity (hop limit 1 cuts pods off the node role):',
    table([
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
  const records = allRecords(result);
  const shown = i.all ? records : records.filter((r) => !QUIET_OUTCOMES.includes(r.outcome));
  const out: string[] = [];
  out.push(`imds-guard ${i.command}  run ${result.run.runId}  account ${result.run.account}  as ${result.run.actor}`);
  if (result.mode === 'dry-run') out.push('dry run: nothing was changed');
  out.push('');
  if (shown.length) out.push(findingsTable(shown, orgWide(result)));
  else out.push(records.length ? 'No findings.' : 'Nothing in scope.');
  out.push(...identityLines(result), ...summaryLines(result));
  const hidden = records.length - shown.length;
  if (hidden > 0) out.push(`  (${hidden} compliant or out-of-scope rows hidden; --all lists them)`);
  for (const s of i.skipped ?? []) out.push(`  skipped ${s.id}: ${s.reason}`);
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
      return 'Exit 0: nothing left that imds-guard can fix.';
    case 1: {
      const parts = [c['would-remediate'] ? `${c['would-remediate']} would change` : '', c.failed ? `${c.failed} failed` : ''];
      return `Exit 1: ${parts.filter(Boolean).join(', ')}.`;
    }
    default:
      return 'Exit 2: the run did not complete (see the errors above).';
  }
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

export const CSV_COLUMNS = [
  'account',
  'region',
  'type',
  'id',
  'name',
  'cluster',
  'nodegroup',
  'owner',
  'outcome',
  'severity',
  'before_tokens',
  'before_hop',
  'before_endpoint',
  'after_tokens',
  'after_hop',
  'after_endpoint',
  'violations',
  'reason',
  'error',
  'run_id',
  'time',
] as const;

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(i: RenderInput): string {
  const rows = allRecords(i.result).map((r) => {
    const after = r.after ?? r.desired;
    return [
      r.resource.account,
      r.resource.region,
      r.resource.type,
      r.resource.id,
      r.resource.name,
      r.resource.cluster,
      r.resource.nodegroup,
      r.resource.owner,
      r.outcome,
      r.severity,
      r.before?.httpTokens,
      r.before?.hopLimit,
      r.before?.httpEndpoint,
      after?.httpTokens,
      after?.hopLimit,
      after?.httpEndpoint,
      r.violations.join('; '),
      r.reason,
      r.error ? `${r.error.name}: ${r.error.message}` : '',
      r.trigger.eventId,
      r.time,
    ];
  });
  return `${[CSV_COLUMNS as readonly string[], ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

export function render(format: OutputFormat, i: RenderInput): string {
  return format === 'json' ? renderJson(i) : format === 'csv' ? renderCsv(i) : renderTable(i);
}

/** `--out`: the full audit as JSON Lines, which `revert --audit` reads back. */
export function auditLines(result: BackfillResult): string {
  return allRecords(result)
    .map((r) => JSON.stringify(r))
    .map((l) => `${l}\n`)
    .join('');
}
