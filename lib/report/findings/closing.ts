// Findings in: what imds-guard writes back on an AWS control finding (EC2.8, EC2.170) once it has evaluated the
// resource the finding names. Pure: the call is lib/shell/security-hub.ts's.
import type { AuditRecord } from '../../domain/audit.js';
import { SELF_NOTE_AUTHOR } from '../../domain/finding-event.js';
import { clip } from './common.js';

export interface FindingClose {
  /** Absent: only a note (a failed remediation leaves the finding open for the next evaluation). */
  workflow?: 'RESOLVED' | 'NOTIFIED';
  note: string;
}

const why = (r: AuditRecord) => (r.reason ? `: ${r.reason}` : r.violations.length ? `: ${r.violations.join('; ')}` : '');

/**
 * The finding's new workflow and note from the records of the resource it names.
 * - remediated / compliant (every record) -> RESOLVED, the note says what was done;
 * - exempt, out-of-scope, reported, would-remediate (dry run) -> NOTIFIED with the reason;
 * - gone -> RESOLVED (the resource no longer exists); failed or no record -> a note only.
 * @example
 * closingOf(records) // { workflow: 'RESOLVED', note: 'imds-guard: remediated i-0abc (HttpTokens required, hop limit 1)' }
 */
export function closingOf(records: AuditRecord[]): FindingClose {
  const r = records.find((x) => x.outcome === 'failed') ?? records.find((x) => x.outcome !== 'remediated' && x.outcome !== 'compliant');
  const note = (s: string) => clip(`${SELF_NOTE_AUTHOR}: ${s}`, 512);
  if (!records.length) return { note: note('the resource could not be evaluated; the next sweep retries') };
  if (!r) {
    const fixed = records.find((x) => x.outcome === 'remediated');
    const a = fixed?.after;
    const how = a ? ` (HttpTokens ${a.httpTokens ?? '?'}, hop limit ${a.hopLimit ?? '?'})` : '';
    return {
      workflow: 'RESOLVED',
      note: note(fixed ? `remediated ${fixed.resource.id}${how}` : `${records[0]?.resource.id} is compliant`),
    };
  }
  const id = r.resource.id;
  switch (r.outcome) {
    case 'failed':
      return { note: note(`remediation of ${id} failed${r.error ? `: ${r.error.name}: ${r.error.message}` : why(r)}`) };
    case 'gone':
      return { workflow: 'RESOLVED', note: note(`${id} no longer exists`) };
    default:
      return { workflow: 'NOTIFIED', note: note(`${r.outcome} ${id}${why(r)}`) };
  }
}
