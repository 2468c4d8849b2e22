// `imds-guard doctor` through the CLI: CloudTrail and EventBridge on the sandbox, SQS and Scheduler mocked
// (aws-sdk-client-mock) until the sandbox models them.
import {
  CloudTrailClient,
  CreateTrailCommand,
  DescribeTrailsCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { DisableRuleCommand, EventBridgeClient, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueueTagsCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../../lib/runs/doctor/facts.js';
import { stackNames } from '../../../lib/runs/doctor/names.js';
import { startSandbox, type Sandbox } from '../../../sandbox/server.js';
import { cli } from '../../cli/helpers.js';

const STACK = 'imds-guard-prod';
const R = 'eu-west-1';
let sb: Sandbox;
const sqs = mockClient(SQSClient);
const scheduler = mockClient(SchedulerClient);
const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
const ct = (region: string) => new CloudTrailClient({ region, endpoint: sb.url, credentials: creds });
const eb = () => new EventBridgeClient({ region: R, endpoint: sb.url, credentials: creds });
const denied = (msg = 'User is not authorized') => Object.assign(new Error(msg), { name: 'AccessDeniedException' });

/** SQS: each queue's depth by name suffix; the remediation queue carries the last-sweep tag. */
function queues(depth: Record<string, number> = {}, lastSweep = new Date(Date.now() - 3600_000).toISOString()) {
  sqs
    .on(GetQueueUrlCommand)
    .callsFake((i: { QueueName: string }) => ({ QueueUrl: `https://sqs.${R}.amazonaws.com/111122223333/${i.QueueName}` }));
  sqs.on(GetQueueAttributesCommand).callsFake((i: { QueueUrl: string }) => ({
    Attributes: {
      ApproximateNumberOfMessages: String(depth[i.QueueUrl.split('/').pop()!] ?? 0),
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    },
  }));
  sqs.on(ListQueueTagsCommand).resolves({ Tags: { 'imds-guard:last-sweep': lastSweep } });
}

async function doctor(...extra: string[]) {
  const r = await cli(['doctor', '--region', R, '--endpoint-url', sb.url, '--output', 'json', ...extra]);
  return { ...r, report: r.stdout ? r.json<DoctorReport>() : undefined };
}
const status = (r: DoctorReport | undefined) => Object.fromEntries(r!.checks.map((c) => [c.check, c.status]));

beforeAll(async () => {
  sb = await startSandbox({ quiet: true, throttle: { enabled: false } });
});
afterAll(() => sb.close());
afterEach(() => {
  sqs.reset();
  scheduler.reset();
});
beforeEach(async () => {
  sb.reset();
  // A multi-Region trail homed in us-east-1 (a shadow trail in eu-west-1), and the stack's three rules.
  await ct('us-east-1').send(new CreateTrailCommand({ Name: 'org', S3BucketName: 'trail-logs', IsMultiRegionTrail: true }));
  await ct('us-east-1').send(new StartLoggingCommand({ Name: 'org' }));
  for (const r of stackNames(STACK).rules) await eb().send(new PutRuleCommand({ Name: r.name, EventPattern: '{"source":["aws.ec2"]}' }));
  queues();
  scheduler.on(GetScheduleCommand).resolves({ Name: `${STACK}-sweep`, State: 'ENABLED', ScheduleExpression: 'rate(6 hours)' });
});

describe('imds-guard doctor', () => {
  it('healthy: exit 0, four ok lines, read-only calls to the sandbox', async () => {
    const r = await doctor();
    expect(r.code).toBe(0);
    expect(status(r.report)).toEqual({ cloudtrail: 'ok', rules: 'ok', queues: 'ok', sweep: 'ok' });
    expect(r.report!.checks[0]!.summary).toContain('trail org (multi-Region, home us-east-1)');
    const calls = sb.stats().calls;
    expect(Object.keys(calls).filter((op) => !/^(Describe|Get|List)/.test(op))).toEqual(['CreateTrail', 'StartLogging', 'PutRule']);
    expect(calls).toMatchObject({ DescribeTrails: 1, GetTrailStatus: 1, GetEventSelectors: 1, ListRules: 1 });
    expect(sqs.commandCalls(GetQueueAttributesCommand)).toHaveLength(4);
  });

  it('the table has one line per check', async () => {
    const r = await cli(['doctor', '--region', R, '--endpoint-url', sb.url]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^(cloudtrail|rules|queues|sweep)\s+ok\s/.test(l))).toHaveLength(4);
  });

  it('trail stopped, a rule disabled, a DLQ with messages: exit 1 naming each', async () => {
    await ct('us-east-1').send(new StopLoggingCommand({ Name: 'org' }));
    await eb().send(new DisableRuleCommand({ Name: `${STACK}-enforceLaunchTemplates-rule-1` }));
    sqs.reset();
    queues({ [`${STACK}-events-dlq`]: 5 });
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(status(r.report)).toEqual({ cloudtrail: 'attention', rules: 'attention', queues: 'attention', sweep: 'ok' });
    const [trail, rules, q] = r.report!.checks;
    expect(trail!.details).toEqual(['org: not logging (StartLogging)']);
    expect(trail!.summary).toMatch(/EventBridge receives no CloudTrail events.*sweep finds it \(rate\(6 hours\)\)/);
    expect(rules!.details).toEqual([`${STACK}-enforceLaunchTemplates-rule-1 (launch templates): DISABLED`]);
    expect(q!.summary).toBe(`${STACK}-events-dlq: 5 message(s) (failed work to look at)`);
  });

  it('a trail that logs only read-only management events (advanced selectors) does not count', async () => {
    const FieldSelectors = [
      { Field: 'eventCategory', Equals: ['Management'] },
      { Field: 'readOnly', Equals: ['true'] },
    ];
    await ct('us-east-1').send(
      new PutEventSelectorsCommand({ TrailName: 'org', AdvancedEventSelectors: [{ Name: 'reads', FieldSelectors }] }),
    );
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.report!.checks[0]!.details).toEqual(['org: does not record management write events']);
  });

  it('stale sweep and sweep off', async () => {
    sqs.reset();
    queues({}, new Date(Date.now() - 13 * 3600_000).toISOString());
    expect(status((await doctor()).report).sweep).toBe('attention');
    scheduler.reset();
    scheduler.on(GetScheduleCommand).rejects(Object.assign(new Error('Schedule not found'), { name: 'ResourceNotFoundException' }));
    const off = (await doctor()).report!.checks[3]!;
    expect(off.summary).toContain(`no schedule ${STACK}-sweep`);
  });

  it('CloudTrail denied: that check is an error with the action, the others still run, exit 2', async () => {
    const trail = mockClient(CloudTrailClient);
    try {
      trail.on(DescribeTrailsCommand).rejects(denied());
      const r = await doctor();
      expect(r.code).toBe(2);
      expect(status(r.report)).toEqual({ cloudtrail: 'error', rules: 'ok', queues: 'ok', sweep: 'ok' });
      expect(r.report!.checks[0]!.summary).toBe('not allowed: cloudtrail:DescribeTrails (AccessDeniedException)');
    } finally {
      trail.restore();
    }
  });

  it('SQS denied: queues and sweep report sqs:GetQueueUrl, trail and rules still ok', async () => {
    sqs.reset();
    sqs.on(GetQueueUrlCommand).rejects(denied());
    const r = await doctor();
    expect(r.code).toBe(2);
    expect(status(r.report)).toEqual({ cloudtrail: 'ok', rules: 'ok', queues: 'error', sweep: 'error' });
    expect(r.report!.checks[2]!.summary).toBe('not allowed: sqs:GetQueueUrl (AccessDeniedException)');
  });

  it('bad options: exit 2 with one line, no AWS call', async () => {
    const before = sb.stats().calls.DescribeTrails ?? 0;
    const r = await cli(['doctor', '--region', 'nowhere', '--endpoint-url', sb.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('imds-guard: --region: "nowhere" is not a Region name (e.g. eu-west-1)\n');
    expect((await cli(['doctor', '--output', 'csv'])).code).toBe(2);
    expect(sb.stats().calls.DescribeTrails ?? 0).toBe(before);
  });
});
