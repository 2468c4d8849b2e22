// `imds-guard doctor`'s AWS reads: one function per service, each catching its own errors into a ReadError, so a
// denied or failing service makes only its own check an error. Read-only calls only.
import { CloudTrailClient, DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueueTagsCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  LAST_SWEEP_TAG,
  type DoctorFacts,
  type QueueFact,
  type QueueRole,
  type Read,
  type RuleFact,
  type ScheduleFact,
  type TrailFact,
} from './facts.js';
import { stackNames } from './names.js';

export interface DoctorClients {
  cloudtrail: CloudTrailClient;
  eventbridge: EventBridgeClient;
  sqs: SQSClient;
  scheduler: SchedulerClient;
}

export interface ConnectOptions {
  region: string;
  profile?: string;
  endpoint?: string;
}

/**
 * One client per service for one Region (few retries: doctor is interactive).
 * @example const clients = doctorClients({ region: 'eu-west-1', profile: 'prod' });
 */
export function doctorClients(o: ConnectOptions): DoctorClients {
  const cfg = {
    region: o.region,
    maxAttempts: 3,
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
  };
  return {
    cloudtrail: new CloudTrailClient(cfg),
    eventbridge: new EventBridgeClient(cfg),
    sqs: new SQSClient(cfg),
    scheduler: new SchedulerClient(cfg),
  };
}

/** Runs one read; any error becomes `{ error }` naming the IAM action. */
async function attempt<T>(action: string, fn: () => Promise<T>): Promise<Read<T>> {
  try {
    return { value: await fn() };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    return { error: { action, name: e?.name ?? 'Error', message: e?.message ?? String(err) } };
  }
}

const errorName = (err: unknown) => (err as { name?: string })?.name ?? '';

/**
 * Trails that cover `region` (multi-Region, or homed here) with their logging state and event selectors.
 * @example await readTrails(clients.cloudtrail, 'eu-west-1') // { value: [{ name: 'org', logging: { value: true }, ... }] }
 */
async function readTrails(ct: CloudTrailClient, region: string): Promise<Read<TrailFact[]>> {
  const list = await attempt('cloudtrail:DescribeTrails', () => ct.send(new DescribeTrailsCommand({ includeShadowTrails: true })));
  if ('error' in list) return list;
  const here = (list.value.trailList ?? []).filter((t) => t.IsMultiRegionTrail || t.HomeRegion === region);
  const facts = await Promise.all(
    here.map(async (t): Promise<TrailFact> => {
      const id = t.TrailARN ?? t.Name ?? '';
      const [status, selectors] = await Promise.all([
        attempt('cloudtrail:GetTrailStatus', () => ct.send(new GetTrailStatusCommand({ Name: id }))),
        attempt('cloudtrail:GetEventSelectors', () => ct.send(new GetEventSelectorsCommand({ TrailName: id }))),
      ]);
      return {
        name: t.Name ?? id,
        arn: id,
        homeRegion: t.HomeRegion ?? region,
        multiRegion: !!t.IsMultiRegionTrail,
        logging: 'error' in status ? status : { value: !!status.value.IsLogging },
        selectors:
          'error' in selectors
            ? selectors
            : {
                value: {
                  ...(selectors.value.EventSelectors ? { classic: selectors.value.EventSelectors } : {}),
                  ...(selectors.value.AdvancedEventSelectors ? { advanced: selectors.value.AdvancedEventSelectors } : {}),
                },
              },
      };
    }),
  );
  return { value: facts };
}

/**
 * The default bus's rules whose names start with `prefix`, with their state.
 * @example
 * await readRules(clients.eventbridge, 'imds-guard-prod')
 * // { value: [{ name: 'imds-guard-prod-enforceInstances-rule-1', state: 'ENABLED' }] }
 */
function readRules(eb: EventBridgeClient, prefix: string): Promise<Read<RuleFact[]>> {
  return attempt('events:ListRules', async () => {
    const out: RuleFact[] = [];
    let NextToken: string | undefined;
    do {
      const page = await eb.send(new ListRulesCommand({ NamePrefix: prefix, Limit: 100, ...(NextToken ? { NextToken } : {}) }));
      for (const r of page.Rules ?? []) out.push({ name: r.Name ?? '', state: r.State ?? 'UNKNOWN' });
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  });
}

const MISSING_QUEUE = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);

/** A queue's URL, or undefined when it does not exist; other errors are thrown. */
async function queueUrl(sqs: SQSClient, QueueName: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl;
  } catch (err) {
    if (MISSING_QUEUE.has(errorName(err))) return undefined;
    throw err;
  }
}

async function readQueue(sqs: SQSClient, role: QueueRole, name: string): Promise<QueueFact> {
  const url = await attempt('sqs:GetQueueUrl', () => queueUrl(sqs, name));
  if ('error' in url) return { role, name, attrs: url };
  if (!url.value) return { role, name, attrs: { value: 'missing' } };
  const QueueUrl = url.value;
  const attrs = await attempt('sqs:GetQueueAttributes', async () => {
    const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
    const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: [...names] }))).Attributes ?? {};
    const n = (k: string) => Number(a[k as keyof typeof a] ?? 0);
    return { visible: n(names[0]), inFlight: n(names[1]), delayed: n(names[2]) };
  });
  return { role, name, attrs };
}

/**
 * Depth of each of the stack's queues (missing queues reported as such).
 * @example await readQueues(clients.sqs, stackNames('imds-guard-prod').queues)
 */
function readQueues(sqs: SQSClient, queues: { role: QueueRole; name: string }[]): Promise<QueueFact[]> {
  return Promise.all(queues.map((q) => readQueue(sqs, q.role, q.name)));
}

/**
 * The `imds-guard:last-sweep` tag of the remediation queue (undefined when the queue or the tag is absent).
 * @example await readLastSweep(clients.sqs, 'imds-guard-prod-remediation') // { value: '2026-01-01T06:00:00.000Z' }
 */
async function readLastSweep(sqs: SQSClient, queueName: string): Promise<Read<string | undefined>> {
  const url = await attempt('sqs:GetQueueUrl', () => queueUrl(sqs, queueName));
  if ('error' in url || !url.value) return 'error' in url ? url : { value: undefined };
  const QueueUrl = url.value;
  return attempt('sqs:ListQueueTags', async () => (await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags?.[LAST_SWEEP_TAG]);
}

/**
 * The sweep schedule (default group), or 'missing' when there is none (`sweepSchedule: off`).
 * @example await readSchedule(clients.scheduler, 'imds-guard-prod-sweep') // { value: { state: 'ENABLED', expression: 'rate(6 hours)' } }
 */
function readSchedule(scheduler: SchedulerClient, Name: string): Promise<Read<ScheduleFact | 'missing'>> {
  return attempt('scheduler:GetSchedule', async () => {
    try {
      const s = await scheduler.send(new GetScheduleCommand({ Name }));
      return {
        state: s.State ?? 'UNKNOWN',
        expression: s.ScheduleExpression ?? '?',
        ...(s.CreationDate ? { created: new Date(s.CreationDate).toISOString() } : {}),
      };
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return 'missing' as const;
      throw err;
    }
  });
}

/**
 * Every fact doctor judges, read concurrently.
 * @example evaluate(await gatherFacts(doctorClients({ region }), 'imds-guard-prod', region))
 */
export async function gatherFacts(c: DoctorClients, stackName: string, region: string, now = new Date()): Promise<DoctorFacts> {
  const names = stackNames(stackName);
  const remediation = `${stackName}-remediation`;
  const [trails, rules, queues, schedule, lastSweep] = await Promise.all([
    readTrails(c.cloudtrail, region),
    readRules(c.eventbridge, names.rulePrefix),
    readQueues(c.sqs, names.queues),
    readSchedule(c.scheduler, names.schedule),
    readLastSweep(c.sqs, remediation),
  ]);
  return { region, stackName, now: now.toISOString(), trails, rules, queues, schedule, lastSweep };
}
