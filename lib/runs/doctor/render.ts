// stdout renderings of a doctor report: one line per check (table), or the report as JSON. Pure.
import type { DoctorReport } from './facts.js';

const MARK = { ok: 'ok', attention: 'ATTENTION', error: 'ERROR' } as const;

/**
 * A table for people: a header, then `CHECK STATUS SUMMARY` per check with its details indented below.
 * @example renderDoctor(report, 'table') // 'imds-guard doctor  imds-guard-prod  eu-west-1 ...'
 */
export function renderDoctor(r: DoctorReport, output: 'table' | 'json'): string {
  if (output === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  const width = Math.max(...r.checks.map((c) => c.check.length), 'CHECK'.length);
  const status = Math.max(...r.checks.map((c) => MARK[c.status].length), 'STATUS'.length);
  const row = (a: string, b: string, c: string) => `${a.padEnd(width)}  ${b.padEnd(status)}  ${c}`.trimEnd();
  const lines = [`imds-guard doctor  stack ${r.stackName}  Region ${r.region}  at ${r.checkedAt}`, '', row('CHECK', 'STATUS', 'SUMMARY')];
  for (const c of r.checks) {
    lines.push(row(c.check, MARK[c.status], c.summary));
    if (c.status !== 'ok') for (const d of c.details) lines.push(`${' '.repeat(width + status + 4)}- ${d}`);
  }
  const verdict = { ok: 'healthy', attention: 'needs attention', error: 'some checks could not run' }[r.status];
  lines.push('', `${verdict} (exit ${r.exitCode})`);
  return `${lines.join('\n')}\n`;
}
