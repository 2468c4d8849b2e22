// Issue 13: convergence through the remediation queue. The real enforce-instances (REMEDIATION_QUEUE_URL set)
// enqueues, the real remediate-instances drains the queue under the SQS event-source driver, on a sandbox that
// throttles 30% and fails 5% of the EC2 calls. Every eligible node ends remediated (read back from the sandbox)
// or `failed` with a published record AND its message in the DLQ: none is silently left. Then the bad inputs:
// a malformed message, a node terminated while queued, a duplicate delivery, SQS unavailable.
import { TerminateInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { enqueue } from '../../lib/kinds/instance/queue.js';
import { toQueueItem, type QueueItem } from '../../lib/kinds/instance/queue-item.js';
import * as ct from '../../sandbox/cloudtrail.js';
import { startSqsEventSource } from '../../sandbox/event-source.js';
import { launchInstances } from '../helpers/launch.js';
import {
  describe as describeInstances,
  lambdaFor,
  sandboxIt,
  startTarget,
  type Target,
  createIdempotencyTable,
} from '../helpers/sandbox.js';

const TABLE = 'imds-guard-e2e-convergence';
const MAX_RECEIVES = 4;
/** SQS durations / 100: retry delays of 10, 20, 40 s pass in 0.1, 0.2, 0.4 s. */
const SQS_TIME_SCALE = 100;
/**
 * The queue's visibility timeout, long enough (60 s scaled) for a batch that runs at real time under the faults: a
 * shorter one would hand an item in progress to the other container.
 */
const VISIBILITY_TIMEOUT = String(60 * SQS_TIME_SCALE);
/** `remediationConcurrency` = QUEUE_CONCURRENCY: each container paces itself to 1/CONSUMERS of EC2's bucket. */
const CONSUMERS = 2;
const EC2_FAULTS = [
  { rate: 0.3, kind: 'throttle' as const },
  { rate: 0.05, kind: '5xx' as const },
];

let t: Target;
let sqs: SQSClient;
let queueUrl: string;
let dlqName: string;
let w: ct.Where;
type Run = (event: unknown) => Promise<any>;
let enforce: Run;
/** The consumer's containers: one module instance each (own SDK clients and bucket share), as Lambda runs them. */
let consumers: Run[];

beforeAll(async () => {
  if (process.env.IMDS_GUARD_E2E_ENDPOINT) return;
  t = await startTarget({ seed: 20260413, sqs: { timeScale: SQS_TIME_SCALE } });
  w = { region: t.region, account: t.sandbox!.state.accountId };
  sqs = new SQSClient({ region: t.region, endpoint: t.endpoint });
  await createIdempotencyTable(t.endpoint, t.region, TABLE);
  dlqName = 'imds-guard-e2e-remediation-dlq';
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: dlqName }));
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))).Attributes!
    .QueueArn!;
  queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'imds-guard-e2e-remediation',
        Attributes: {
          VisibilityTimeout: VISIBILITY_TIMEOUT,
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVES }),
        },
      }),
    )
  ).QueueUrl!;
  const env = {
    REMEDIATION_QUEUE_URL: queueUrl,
    MAX_RECEIVES: String(MAX_RECEIVES),
    QUEUE_CONCURRENCY: String(CONSUMERS),
    IDEMPOTENCY_TABLE: TABLE,
    IDENTITY_GATE: 'off',
  };
  enforce = await lambdaFor(t, 'enforce-instances', env);
  consumers = [];
  for (let k = 0; k < CONSUMERS; k++) consumers.push(await lambdaFor(t, 'remediate-instances', env));
}, 30_000);
afterAll(() => t?.close());
afterEach(() => t?.sandbox?.setFaults({}));

/** The consumer under Lambda's SQS event source (batch 10, MaximumConcurrency = CONSUMERS) until the queue is empty. */
async function drain(): Promise<void> {
  const idle = [...consumers];
  const src = startSqsEventSource({
    endpoint: t.endpoint,
    region: t.region,
    queueUrl,
    handler: async (event) => {
      const run = idle.shift()!;
      try {
        return await run(event);
      } finally {
        idle.push(run);
      }
    },
    batchSize: 10,
    maximumConcurrency: CONSUMERS,
    waitSeconds: 1,
    timeoutMs: 60_000,
  });
  try {
    await src.drained({ timeoutMs: 40_000 });
  } finally {
    await src.stop();
  }
}

const nodeTags = (ng: string, owner: string) => ({
  'eks:cluster-name': 'prod',
  'eks:nodegroup-name': ng,
  'kubernetes.io/cluster/prod': 'owned',
  owner,
});

/** Every record published so far, in order. */
const published = (): any[] => t.sandbox!.messages().flatMap((m) => JSON.parse(m.bodies.default ?? m.message).records ?? []);
const compliant = (i: Instance | undefined) =>
  i?.MetadataOptions?.HttpTokens === 'required' && i.MetadataOptions.HttpPutResponseHopLimit === 1;
const dlqBodies = (): any[] => [...(t.sandbox!.sqs.queue(t.region, dlqName)?.messages.values() ?? [])].map((m) => JSON.parse(m.body));
const modifyCount = (id: string) => t.sandbox!.state.region(t.region).instances.get(id)!.modifyCount;
const ec2Calls = () => {
  const c = t.sandbox!.stats().calls;
  return (c.ModifyInstanceMetadataOptions ?? 0) + (c.DescribeInstances ?? 0);
};

/** A queue item for a node, as enforce-instances makes it. */
function itemFor(i: Instance, eventId: string): QueueItem {
  const id = i.InstanceId!;
  return toQueueItem({
    trigger: {
      source: 'cloudtrail',
      eventName: 'RunInstances',
      eventId,
      eventTime: new Date().toISOString(),
      actor: 'arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling',
      region: t.region,
      account: w.account,
    },
    resource: {
      type: 'instance',
      id,
      arn: `arn:aws:ec2:${t.region}:${w.account}:instance/${id}`,
      region: t.region,
      account: w.account,
      owner: 'team-d',
    },
    before: { httpTokens: 'optional', hopLimit: 2 },
    remediation: { httpTokens: 'required', hopLimit: 1 },
    maxHopLimit: 1,
    violations: ['HttpTokens is optional, expected required'],
  });
}

describe('convergence through the remediation queue', () => {
  sandboxIt(
    'with 30% throttling and 5% 5xx on EC2: every eligible node ends remediated, or failed with a record and in the DLQ',
    async () => {
      const nodes: Instance[] = [];
      const events: unknown[] = [];
      for (const [k, owner] of ['team-a', 'team-b', 'team-c', 'team-a'].entries()) {
        const batch = await launchInstances(t.ec2, 10, 'optional', 2, nodeTags(`ng-${k}`, owner));
        nodes.push(...batch);
        events.push(ct.runInstances(batch, 'autoscaling', w));
      }
      // Two of them never accept the change (stuck pending): they must end `failed`, loudly, in the DLQ.
      const stuck = [nodes[3]!.InstanceId!, nodes[27]!.InstanceId!];
      t.sandbox!.setFaults({
        seed: 7,
        errors: { DescribeInstances: EC2_FAULTS, ModifyInstanceMetadataOptions: EC2_FAULTS },
        pending: { ids: stuck, modifyAttempts: 1000 },
      });
      let queued = 0;
      for (const e of events) {
        const res = await enforce(e);
        expect(res.status).toBe('done');
        queued += res.queued;
      }
      expect(queued).toBe(40);
      await drain();

      const after = await describeInstances(
        t,
        nodes.map((n) => n.InstanceId!),
      );
      const records = published();
      const failed = new Set(records.filter((r) => r.outcome === 'failed').map((r) => r.resource.id));
      const inDlq = new Set(dlqBodies().map((b) => b.resource.id));
      const remediated = nodes.filter((n) => compliant(after.get(n.InstanceId!))).map((n) => n.InstanceId!);
      const failedInDlq = nodes.map((n) => n.InstanceId!).filter((id) => failed.has(id) && inDlq.has(id));
      expect([...failed].sort()).toEqual([...stuck].sort());
      expect([...inDlq].sort()).toEqual([...stuck].sort());
      expect(remediated.length + failedInDlq.length).toBe(40);
      // The faults really were there, and retries made up for them.
      expect(t.sandbox!.stats().faults.ModifyInstanceMetadataOptions).toBeGreaterThan(10);
      for (const id of remediated) expect(records.filter((r) => r.resource.id === id && r.outcome === 'remediated')).toHaveLength(1);
      const record = records.find((r) => r.outcome === 'failed')!;
      // The last attempt's error: the stuck state, or an injected fault that came first.
      expect(['IncorrectInstanceState', 'InternalError', 'RequestLimitExceeded']).toContain(record.error.name);
      expect(record.error.message).toBeTruthy();
      expect(record.reason).toContain(`all ${MAX_RECEIVES} deliveries`);
    },
    60_000,
  );

  sandboxIt('a malformed or foreign message is deleted with no EC2 call and does not hold up the batch', async () => {
    const [node] = await launchInstances(t.ec2, 1, 'optional', 2, nodeTags('ng-m', 'team-m'));
    const before = ec2Calls();
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'not json' },
          { Id: 'b', MessageBody: JSON.stringify({ schema: 'someone-else/v1', instanceId: node!.InstanceId }) },
          { Id: 'c', MessageBody: JSON.stringify(itemFor(node!, 'ev-malformed')) },
        ],
      }),
    );
    await drain();
    expect(ec2Calls() - before).toBe(1);
    expect(compliant((await describeInstances(t, [node!.InstanceId!])).get(node!.InstanceId!))).toBe(true);
    expect(dlqBodies().filter((b) => b?.resource?.id === node!.InstanceId || b?.instanceId === node!.InstanceId)).toEqual([]);
  });

  sandboxIt('a node terminated while queued ends `gone`, told to its owner', async () => {
    const batch = await launchInstances(t.ec2, 3, 'optional', 2, nodeTags('ng-g', 'team-g'));
    const res = await enforce(ct.runInstances(batch, 'autoscaling', w));
    expect(res.queued).toBe(3);
    const doomed = batch[1]!.InstanceId!;
    await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [doomed] }));
    await drain();
    const mine = published().filter((r) => batch.some((b) => b.InstanceId === r.resource.id));
    expect(mine.map((r) => [r.resource.id, r.outcome]).sort()).toEqual(
      batch.map((b) => [b.InstanceId!, b.InstanceId === doomed ? 'gone' : 'remediated']).sort(),
    );
    expect(mine.find((r) => r.resource.id === doomed)!.resource.owner).toBe('team-g');
    expect(dlqBodies().some((b) => b.resource?.id === doomed)).toBe(false);
  });

  sandboxIt('the same item delivered twice makes one Modify and one message', async () => {
    const [node] = await launchInstances(t.ec2, 1, 'optional', 2, nodeTags('ng-d', 'team-d'));
    const item = itemFor(node!, 'ev-duplicate');
    await enqueue(sqs, queueUrl, [item]);
    await drain();
    await enqueue(sqs, queueUrl, [item]);
    await drain();
    expect(modifyCount(node!.InstanceId!)).toBe(1);
    expect(published().filter((r) => r.id === item.id)).toHaveLength(1);
  });

  sandboxIt('SQS unavailable: the enforce-instances invocation fails loudly (Lambda retries it, then alarms)', async () => {
    const batch = await launchInstances(t.ec2, 2, 'optional', 2, nodeTags('ng-s', 'team-s'));
    t.sandbox!.setFaults({ errors: { 'sqs:*': { rate: 1, kind: '5xx' } } });
    await expect(enforce(ct.runInstances(batch, 'autoscaling', w))).rejects.toThrow();
    t.sandbox!.setFaults({});
    for (const b of batch) expect(modifyCount(b.InstanceId!)).toBe(0);
  });
});
