// `--output csv`: every record of the run, one row each, for spreadsheets; the account column names the member
// account of an org-wide run.
import { allRecords, type BackfillResult } from '../lib/runs/run.js';

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

/**
 * One row per audit record (compliant and out-of-scope ones included), RFC 4180 quoting, CRLF line ends.
 * @example
 * csvOf(result).split('\r\n')[0]; // CSV_COLUMNS.join(',')
 */
export function csvOf(result: BackfillResult): string {
  const rows = allRecords(result).map((r) => {
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
