// `--output ocsf`: every record of the run as an OCSF 1.6 Compliance Finding (class 2003), one JSON object per
// line, for Security Lake and SIEMs. The mapping is the pure one (lib/report/findings/ocsf.ts).
import { toOcsf } from '../lib/report/findings/ocsf.js';
import { allRecords, type BackfillResult } from '../lib/runs/run.js';

/**
 * JSON Lines of OCSF Compliance Findings, one per audit record (compliant and out-of-scope ones included).
 * @example
 * renderOcsf({ result }) // '{"class_uid":2003,...}\n{"class_uid":2003,...}\n'
 */
export function renderOcsf(i: { result: BackfillResult }): string {
  return allRecords(i.result)
    .map((r) => `${JSON.stringify(toOcsf(r))}\n`)
    .join('');
}
