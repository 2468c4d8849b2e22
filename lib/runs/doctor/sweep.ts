// The sweep check: the schedule is ENABLED and the last sweep (queue tag) is recent. Pure.
import { failed } from './errors.js';
import type { CheckResult, DoctorFacts } from './facts.js';
import { stackNames } from './names.js';

const UNIT_SECONDS: Record<string, number> = { minute: 60, hour: 3600, day: 86400 };

/**
 * The period of a Scheduler `rate(N unit)` expression in seconds; undefined for cron()/at() or anything else.
 * @example ratePeriodSeconds('rate(6 hours)') // 21600
 */
export function ratePeriodSeconds(expression: string): number | undefined {
  const m = /^rate\(\s*(\d+)\s+(minute|hour|day)s?\s*\)$/.exec(expression.trim());
  const [, n, unit] = m ?? [];
  const seconds = unit ? UNIT_SECONDS[unit] : undefined;
  if (!seconds || Number(n) < 1) return undefined;
  return Number(n) * seconds;
}

/**
 * A duration for people: `45 s`, `12 min`, `7.5 h`, `3 d`.
 * @example ago(5400) // '1.5 h'
 */
function ago(seconds: number): string {
  const round = (n: number) => String(Math.round(n * 10) / 10);
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${round(seconds / 3600)} h`;
  return `${round(seconds / 86400)} d`;
}

const since = (now: string, iso: string) => (Date.parse(now) - Date.parse(iso)) / 1000;

/**
 * Sweep: the schedule exists and is ENABLED; with `rate(...)`, the last sweep is within twice its period.
 * @example sweepCheck({ ...facts, schedule: { value: 'missing' } }).status // 'attention' (the sweep is off)
 */
export function sweepCheck(f: Pick<DoctorFacts, 'stackName' | 'now' | 'schedule' | 'lastSweep'>): CheckResult {
  const name = stackNames(f.stackName).schedule;
  if ('error' in f.schedule) return failed('sweep', f.schedule.error);
  const s = f.schedule.value;
  const attention = (summary: string, details: string[] = []): CheckResult => ({ check: 'sweep', status: 'attention', summary, details });
  if (s === 'missing') {
    return attention(`no schedule ${name} (sweepSchedule=off?): a node whose event is lost is never looked at again`);
  }
  if (s.state !== 'ENABLED') return attention(`schedule ${name} (${s.expression}) is ${s.state}: no sweep runs`);
  if ('error' in f.lastSweep) return failed('sweep', f.lastSweep.error, [`schedule ${name}: ENABLED, ${s.expression}`]);
  const period = ratePeriodSeconds(s.expression);
  const last = f.lastSweep.value;
  const age = last && !Number.isNaN(Date.parse(last)) ? since(f.now, last) : undefined;
  const lastText = age === undefined ? undefined : `last sweep ${last} (${ago(age)} ago)`;
  const head = `schedule ${s.expression} ENABLED`;
  if (period === undefined) {
    return { check: 'sweep', status: 'ok', summary: `${head}, ${lastText ?? 'no sweep recorded yet'}`, details: [] };
  }
  const limit = 2 * period;
  if (age !== undefined) {
    if (age <= limit) return { check: 'sweep', status: 'ok', summary: `${head}, ${lastText}`, details: [] };
    return attention(`${head}, but ${lastText}: more than twice the period (look at the backfill function's errors)`);
  }
  const young = s.created !== undefined && since(f.now, s.created) <= limit;
  if (young)
    return { check: 'sweep', status: 'ok', summary: `${head}, no sweep recorded yet (schedule created ${s.created})`, details: [] };
  return attention(`${head}, but no sweep recorded (tag imds-guard:last-sweep on the remediation queue)`);
}
