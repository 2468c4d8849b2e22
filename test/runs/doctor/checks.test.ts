// The pure doctor checks over hand-built facts: each unhealthy state is named, the exit code ranks error > attention > ok.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { evaluate, recordsManagementWrites } from '../../../lib/runs/doctor/checks.js';
import type { DoctorFacts, QueueFact, TrailFact } from '../../../lib/runs/doctor/facts.js';
import { ruleName, stackNames } from '../../../lib/runs/doctor/names.js';
import { renderDoctor } from '../../../lib/runs/doctor/render.js';
import { ratePeriodSeconds } from '../../../lib/runs/doctor/sweep.js';

const STACK = 'imds-guard-prod';
const osls = createRequire(import.meta.url)('osls/lib/plugins/aws/package/compile/events/event-bridge/utils.js') as {
  makeAndHashRuleName(o: { functionName: string; index: number }): string;
};
const NOW = '2026-06-01T12:00:00.000Z';
const hoursAgo = (h: number) => new Date(Date.parse(NOW) - h * 3600_000).toISOString();

const trail = (over: Partial<TrailFact> = {}): TrailFact => ({
  name: 'org-trail',
  arn: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail',
  homeRegion: 'us-east-1',
  multiRegion: true,
  logging: { value: true },
  selectors: { value: { classic: [{ ReadWriteType: 'All', IncludeManagementEvents: true }] } },
  ...over,
});
const queues = (depth: Partial<Record<QueueFact['role'], number>> = {}): QueueFact[] =>
  stackNames(STACK).queues.map((q) => ({ ...q, attrs: { value: { visible: depth[q.role] ?? 0, inFlight: 0, delayed: 0 } } }));

function healthy(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    region: 'eu-west-1',
    stackName: STACK,
    now: NOW,
    trails: { value: [trail()] },
    rules: { value: stackNames(STACK).rules.map((r) => ({ name: r.name, state: 'ENABLED' })) },
    queues: queues(),
    schedule: { value: { state: 'ENABLED', expression: 'rate(6 hours)', created: hoursAgo(100) } },
    lastSweep: { value: hoursAgo(2) },
    ...over,
  };
}
const check = (f: DoctorFacts, name: string) => evaluate(f).checks.find((c) => c.check === name)!;
const denied = (action: string) => ({ error: { action, name: 'AccessDeniedException', message: 'User is not authorized' } });

describe('doctor checks', () => {
  it('healthy: every check ok, exit 0', () => {
    const r = evaluate(healthy());
    expect(r.checks.map((c) => [c.check, c.status])).toEqual([
      ['cloudtrail', 'ok'],
      ['rules', 'ok'],
      ['queues', 'ok'],
      ['sweep', 'ok'],
    ]);
    expect(r.exitCode).toBe(0);
    expect(check(healthy(), 'cloudtrail').summary).toContain('org-trail (multi-Region, home us-east-1)');
  });

  it('no trail: attention that says EventBridge gets nothing and points to the sweep', () => {
    const c = check(healthy({ trails: { value: [] } }), 'cloudtrail');
    expect(c.status).toBe('attention');
    expect(c.summary).toMatch(/EventBridge receives no CloudTrail events/);
    expect(c.summary).toContain('sweep');
    expect(c.summary).toContain('rate(6 hours)');
    expect(evaluate(healthy({ trails: { value: [] } })).exitCode).toBe(1);
  });

  it('a single-Region trail homed elsewhere does not cover this Region', () => {
    const c = check(healthy({ trails: { value: [trail({ multiRegion: false })] } }), 'cloudtrail');
    expect(c.status).toBe('attention');
    expect(check(healthy({ trails: { value: [trail({ multiRegion: false, homeRegion: 'eu-west-1' })] } }), 'cloudtrail').status).toBe('ok');
  });

  it('trail not logging: attention naming the trail', () => {
    const c = check(healthy({ trails: { value: [trail({ logging: { value: false } })] } }), 'cloudtrail');
    expect(c.status).toBe('attention');
    expect(c.details).toEqual(['org-trail: not logging (StartLogging)']);
  });

  it('trail without management (write) events: attention', () => {
    for (const classic of [[{ IncludeManagementEvents: false, ReadWriteType: 'All' }], [{ ReadWriteType: 'ReadOnly' }]]) {
      const c = check(healthy({ trails: { value: [trail({ selectors: { value: { classic } } })] } }), 'cloudtrail');
      expect(c.status).toBe('attention');
      expect(c.details[0]).toContain('does not record management write events');
    }
  });

  it('advanced selectors: eventCategory = Management counts unless read-only or without ec2', () => {
    const mgmt = { Field: 'eventCategory', Equals: ['Management'] };
    expect(recordsManagementWrites({ advanced: [{ FieldSelectors: [mgmt] }] })).toBe(true);
    expect(recordsManagementWrites({ advanced: [{ FieldSelectors: [mgmt, { Field: 'readOnly', Equals: ['false'] }] }] })).toBe(true);
    expect(recordsManagementWrites({ advanced: [{ FieldSelectors: [mgmt, { Field: 'readOnly', Equals: ['true'] }] }] })).toBe(false);
    const noEc2 = { Field: 'eventSource', NotEquals: ['ec2.amazonaws.com'] };
    expect(recordsManagementWrites({ advanced: [{ FieldSelectors: [mgmt, noEc2] }] })).toBe(false);
    expect(recordsManagementWrites({ advanced: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }] }] })).toBe(false);
  });

  it('rule disabled or missing: attention naming which', () => {
    const [inst, tmpl] = stackNames(STACK).rules;
    const f = healthy({
      rules: {
        value: [
          { name: inst!.name, state: 'DISABLED' },
          { name: tmpl!.name, state: 'ENABLED' },
        ],
      },
    });
    const c = check(f, 'rules');
    expect(c.status).toBe('attention');
    expect(c.summary).toContain('1 missing, 1 not ENABLED');
    expect(c.details).toEqual([
      'imds-guard-prod-enforceNodegroups-rule-1 (node groups): missing',
      'imds-guard-prod-enforceInstances-rule-1 (instances): DISABLED',
    ]);
  });

  it('DLQ non-empty: attention with the count; a busy remediation queue is fine', () => {
    const c = check(healthy({ queues: queues({ 'remediation-dlq': 3, remediation: 40 }) }), 'queues');
    expect(c.status).toBe('attention');
    expect(c.summary).toBe('imds-guard-prod-remediation-dlq: 3 message(s) (failed work to look at)');
    expect(c.details[0]).toBe('imds-guard-prod-remediation: 40 waiting, 0 in flight');
    expect(check(healthy({ queues: queues({ remediation: 40 }) }), 'queues').status).toBe('ok');
    const missing = queues().map((q) => (q.role === 'events-dlq' ? { ...q, attrs: { value: 'missing' as const } } : q));
    expect(check(healthy({ queues: missing }), 'queues').summary).toContain('events-dlq: does not exist');
  });

  it('stale sweep: attention when older than twice the rate period', () => {
    expect(check(healthy({ lastSweep: { value: hoursAgo(11) } }), 'sweep').status).toBe('ok');
    const c = check(healthy({ lastSweep: { value: hoursAgo(13) } }), 'sweep');
    expect(c.status).toBe('attention');
    expect(c.summary).toContain('13 h ago');
    expect(check(healthy({ lastSweep: { value: undefined } }), 'sweep').status).toBe('attention');
    const fresh = healthy({
      lastSweep: { value: undefined },
      schedule: { value: { state: 'ENABLED', expression: 'rate(6 hours)', created: hoursAgo(1) } },
    });
    expect(check(fresh, 'sweep').status).toBe('ok');
  });

  it('sweep off or disabled: attention; cron is reported as is', () => {
    expect(check(healthy({ schedule: { value: 'missing' } }), 'sweep')).toMatchObject({
      status: 'attention',
      summary: expect.stringContaining('never looked at again'),
    });
    expect(check(healthy({ schedule: { value: { state: 'DISABLED', expression: 'rate(6 hours)' } } }), 'sweep').status).toBe('attention');
    const cron = check(
      healthy({ schedule: { value: { state: 'ENABLED', expression: 'cron(0 3 * * ? *)' } }, lastSweep: { value: hoursAgo(500) } }),
      'sweep',
    );
    expect(cron.status).toBe('ok');
    expect(cron.summary).toContain('20.8 d ago');
  });

  it('one check denied: that check is an error naming the action, the others still judged, exit 2', () => {
    const r = evaluate(healthy({ rules: denied('events:ListRules'), queues: queues({ 'events-dlq': 1 }) }));
    expect(r.checks.map((c) => c.status)).toEqual(['ok', 'error', 'attention', 'ok']);
    expect(r.checks[1]!.summary).toBe('not allowed: events:ListRules (AccessDeniedException)');
    expect(r.exitCode).toBe(2);
    const t = check(healthy({ trails: { value: [trail({ selectors: denied('cloudtrail:GetEventSelectors') })] } }), 'cloudtrail');
    expect(t).toMatchObject({ status: 'error', summary: 'not allowed: cloudtrail:GetEventSelectors (AccessDeniedException)' });
  });

  it('names: rate periods, hashed rule names, the table', () => {
    expect(ratePeriodSeconds('rate(1 day)')).toBe(86400);
    expect(ratePeriodSeconds('rate(30 minutes)')).toBe(1800);
    expect(ratePeriodSeconds('cron(0 * * * ? *)')).toBeUndefined();
    const long = ruleName('imds-guard-a-very-long-stage-name-here', 'enforceLaunchTemplates');
    expect(long.length).toBeLessThanOrEqual(64);
    // The Serverless Framework's own naming, for a short and a hashed name.
    expect(long).toBe(
      osls.makeAndHashRuleName({ functionName: 'imds-guard-a-very-long-stage-name-here-enforceLaunchTemplates', index: 1 }),
    );
    expect(ruleName(STACK, 'enforceNodegroups')).toBe(osls.makeAndHashRuleName({ functionName: `${STACK}-enforceNodegroups`, index: 1 }));
    expect(stackNames('imds-guard-a-very-long-stage-name-here').rulePrefix).toBe('imds-guard-a-very-long-st');
    const table = renderDoctor(evaluate(healthy({ trails: { value: [] } })), 'table');
    expect(table.split('\n').filter((l) => /^(cloudtrail|rules|queues|sweep) /.test(l))).toHaveLength(4);
    expect(table).toContain('needs attention (exit 1)');
  });
});
