// `imds-guard doctor`'s judgement: gathered facts in, one result per check out. Pure (no SDK, no clock).
import type {
  CheckResult,
  CheckStatus,
  DoctorFacts,
  DoctorReport,
  FieldSelector,
  QueueFact,
  Read,
  ReadError,
  Selectors,
  TrailFact,
} from './facts.js';
import { failed, readError } from './errors.js';
import { stackNames } from './names.js';
import { sweepCheck } from './sweep.js';

const has = <T>(r: Read<T>): r is { value: T } => 'value' in r;

function fieldAllows(f: FieldSelector | undefined, value: string): boolean {
  if (!f) return true;
  if (f.Equals && !f.Equals.includes(value)) return false;
  if (f.NotEquals?.includes(value)) return false;
  if (f.StartsWith && !f.StartsWith.some((p) => value.startsWith(p))) return false;
  return !f.NotStartsWith?.some((p) => value.startsWith(p));
}

/**
 * Whether the selectors record EC2 and EKS management write events: a classic selector with management events
 * (default on) and ReadWriteType All or WriteOnly, or an advanced selector on `eventCategory = Management` that
 * does not restrict to read-only calls and keeps ec2/eks as event sources.
 * @example recordsManagementWrites({ classic: [{ ReadWriteType: 'ReadOnly' }] }) // false
 */
export function recordsManagementWrites(s: Selectors): boolean {
  if (s.advanced?.length) {
    return s.advanced.some((sel) => {
      const field = (name: string) => sel.FieldSelectors?.find((f) => f.Field === name);
      const category = field('eventCategory');
      if (!category?.Equals?.includes('Management')) return false;
      if (!fieldAllows(field('readOnly'), 'false')) return false;
      return ['ec2.amazonaws.com', 'eks.amazonaws.com'].every((src) => fieldAllows(field('eventSource'), src));
    });
  }
  return (s.classic ?? []).some(
    (sel) => sel.IncludeManagementEvents !== false && ['All', 'WriteOnly'].includes(sel.ReadWriteType ?? 'All'),
  );
}

/** Why one trail does not feed EventBridge here, or undefined when it does; a failed read is returned as is. */
function trailProblem(t: TrailFact): string | ReadError | undefined {
  if (!has(t.logging)) return t.logging.error;
  if (!t.logging.value) return `${t.name}: not logging (StartLogging)`;
  if (!has(t.selectors)) return t.selectors.error;
  if (!recordsManagementWrites(t.selectors.value)) return `${t.name}: does not record management write events`;
  return undefined;
}

/**
 * CloudTrail: a logging trail with management write events covers the Region (multi-Region, or homed here).
 * @example cloudtrailCheck({ ...facts, trails: { value: [] } }).status // 'attention'
 */
function cloudtrailCheck(f: Pick<DoctorFacts, 'region' | 'trails' | 'schedule'>): CheckResult {
  if (!has(f.trails)) return failed('cloudtrail', f.trails.error);
  const here = f.trails.value.filter((t) => t.multiRegion || t.homeRegion === f.region);
  const problems = here.map((t) => ({ t, p: trailProblem(t) }));
  const good = problems.find((x) => x.p === undefined);
  if (good) {
    const scope = good.t.multiRegion ? `multi-Region, home ${good.t.homeRegion}` : `homed in ${f.region}`;
    return { check: 'cloudtrail', status: 'ok', summary: `trail ${good.t.name} (${scope}) is logging management events`, details: [] };
  }
  const denied = problems.map((x) => x.p).find((p): p is ReadError => typeof p === 'object');
  const details = problems.map((x) => (typeof x.p === 'string' ? x.p : `${x.t.name}: ${readError(x.p as ReadError)}`));
  if (denied) return failed('cloudtrail', denied, details);
  const sched = f.schedule;
  const sweep =
    'error' in sched
      ? ' (its schedule could not be read)'
      : sched.value === 'missing'
        ? ' (the sweep is off)'
        : ` (${sched.value.expression})`;
  return {
    check: 'cloudtrail',
    status: 'attention',
    summary:
      `no trail logging management events covers ${f.region}: EventBridge receives no CloudTrail events, ` +
      `so nothing is fixed as it launches; only the sweep finds it${sweep}. Create a multi-Region trail with management events`,
    details,
  };
}

/**
 * Rules: the three event rules exist and are ENABLED.
 * @example rulesCheck({ stackName: 'imds-guard-prod', rules: { value: [] } }).status // 'attention'
 */
function rulesCheck(f: Pick<DoctorFacts, 'stackName' | 'rules'>): CheckResult {
  if (!has(f.rules)) return failed('rules', f.rules.error);
  const found = new Map(f.rules.value.map((r) => [r.name, r.state]));
  const expected = stackNames(f.stackName).rules;
  const missing = expected.filter((r) => !found.has(r.name)).map((r) => `${r.name} (${r.what}): missing`);
  const off = expected.filter((r) => found.has(r.name) && found.get(r.name) !== 'ENABLED');
  const disabled = off.map((r) => `${r.name} (${r.what}): ${found.get(r.name)}`);
  if (!missing.length && !disabled.length) {
    return { check: 'rules', status: 'ok', summary: `${expected.length} event rules ENABLED`, details: expected.map((r) => r.name) };
  }
  const what = [...(missing.length ? [`${missing.length} missing`] : []), ...(disabled.length ? [`${disabled.length} not ENABLED`] : [])];
  return {
    check: 'rules',
    status: 'attention',
    summary: `event rules ${what.join(', ')}: those changes are not enforced as they happen (deploy the stack, or EnableRule)`,
    details: [...missing, ...disabled],
  };
}

const STUCK_AGE_SECONDS = 900;

function queueLine(q: QueueFact): { status: CheckStatus; line: string } {
  if (!has(q.attrs)) return { status: 'error', line: `${q.name}: ${readError(q.attrs.error)}` };
  if (q.attrs.value === 'missing') return { status: 'attention', line: `${q.name}: does not exist (deploy the stack)` };
  const a = q.attrs.value;
  const age = a.oldestAgeSeconds === undefined ? '' : `, oldest ${Math.round(a.oldestAgeSeconds)} s`;
  const counts = `${a.visible} waiting, ${a.inFlight} in flight${a.delayed ? `, ${a.delayed} delayed` : ''}${age}`;
  if (q.role === 'remediation') {
    const stuck = (a.oldestAgeSeconds ?? 0) > STUCK_AGE_SECONDS;
    return { status: stuck ? 'attention' : 'ok', line: `${q.name}: ${counts}${stuck ? ' (the drain is stuck)' : ''}` };
  }
  const n = a.visible + a.inFlight + a.delayed;
  return n
    ? { status: 'attention', line: `${q.name}: ${n} message(s) (failed work to look at)` }
    : { status: 'ok', line: `${q.name}: empty` };
}

/**
 * Queues: the remediation queue's depth, and the three dead-letter/failure queues empty.
 * @example
 * const dlq = { role: 'events-dlq', name: 'x', attrs: { value: { visible: 2, inFlight: 0, delayed: 0 } } } as const;
 * queuesCheck([dlq]).status // 'attention'
 */
function queuesCheck(queues: QueueFact[]): CheckResult {
  const lines = queues.map(queueLine);
  const firstError = queues.map((q) => q.attrs).find((a): a is { error: ReadError } => !has(a));
  const details = lines.map((l) => l.line);
  if (firstError) return failed('queues', firstError.error, details);
  const bad = lines.filter((l) => l.status !== 'ok');
  if (!bad.length) return { check: 'queues', status: 'ok', summary: details.join('; '), details };
  return { check: 'queues', status: 'attention', summary: bad.map((l) => l.line).join('; '), details };
}

/**
 * Every check over the facts, with the overall status and exit code (error 2 over attention 1 over ok 0).
 * @example evaluate(facts).exitCode // 0 when every check is ok
 */
export function evaluate(f: DoctorFacts): DoctorReport {
  const checks = [cloudtrailCheck(f), rulesCheck(f), queuesCheck(f.queues), sweepCheck(f)];
  const status: CheckStatus = checks.some((c) => c.status === 'error')
    ? 'error'
    : checks.some((c) => c.status === 'attention')
      ? 'attention'
      : 'ok';
  const exitCode = status === 'error' ? 2 : status === 'attention' ? 1 : 0;
  return { schema: 'imds-guard.doctor/v1', region: f.region, stackName: f.stackName, checkedAt: f.now, status, exitCode, checks };
}
