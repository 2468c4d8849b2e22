// enforce-instances with REMEDIATION_QUEUE_URL: changes become queue items (no Modify here); idempotency fails open.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import { DescribeNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../lib/domain/audit.js';
import { parseQueueItem, type QueueItem } from '../../lib/kinds/instance/queue-item.js';
import { clone, loadEvent } from '../helpers/events.js';
import { TOPIC, lambdaContext, loadFunction } from '../helpers/lambda.js';

type Mod = typeof import('../../functions/enforce-instances.js');
const ec2 = mockClient(EC2Client);
const sns = mockClient(SNSClient);
const eks = mockClient(EKSClient);
const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBClient);
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/111122223333/imds-guard-prod-remediation';
const direct = { TOPIC_ARN: TOPIC, SELF_ROLE_NAMES: 'imds-guard-enforce-instances', MAX_ATTEMPTS: '2', IDENTITY_GATE: 'off' };
const queued = { ...direct, REMEDIATION_QUEUE_URL: QUEUE };

const id = (n: number) => `i-0000000000000${String(n).padStart(4, '0')}`;
function nodeItem(n: number, owner: string | undefined, tokens = 'optional', hop = 2) {
  const tags = [
    { key: 'eks:cluster-name', value: 'payments' },
    { key: 'eks:nodegroup-name', value: 'ng-a' },
    ...(owner ? [{ key: 'owner', value: owner }] : []),
  ];
  return {
    instanceId: id(n),
    tagSet: { items: tags },
    metadataOptions: { state: 'pending', httpTokens: tokens, httpPutResponseHopLimit: hop, httpEndpoint: 'enabled' },
  };
}
function runEvent(items: unknown[], eventID = 'ev-queue-1') {
  const e = clone(loadEvent('run-instances-direct-3'));
  e.detail.responseElements.instancesSet.items = items;
  delete e.detail.requestParameters.tagSpecificationSet;
  e.detail.eventID = eventID;
  return e;
}
const sent = (): QueueItem[] =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.MessageBody!) as QueueItem));

/** The audit records the function logs, read from its own (freshly loaded) logger. */
async function auditLines(queuedLines: unknown[] = []): Promise<AuditRecord[]> {
  const { logger } = await import('../../lib/shell/observability.js');
  const lines: AuditRecord[] = [];
  for (const level of ['info', 'error'] as const)
    vi.spyOn(logger, level).mockImplementation((m: unknown, ...extra: unknown[]) => {
      const x = extra[0] as { audit?: AuditRecord; queued?: unknown } | undefined;
      if (x?.audit) lines.push(x.audit);
      if (m === 'queued') queuedLines.push(x?.queued);
    });
  return lines;
}

beforeEach(() => {
  for (const m of [ec2, sns, eks, sqs, ddb]) m.reset();
  eks.on(DescribeNodegroupCommand).resolves({ nodegroup: { tags: { team: 'from-nodegroup' } } });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sqs
    .on(SendMessageBatchCommand)
    .callsFake((input) => ({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
  ec2.on(ModifyInstanceMetadataOptionsCommand).callsFake((input) => ({
    InstanceId: input.InstanceId,
    InstanceMetadataOptions: { State: 'pending', HttpTokens: input.HttpTokens, HttpPutResponseHopLimit: input.HttpPutResponseHopLimit },
  }));
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('enforce-instances with the remediation queue', () => {
  it('one item per change, 10 per SendMessageBatch in the order decided; no Modify, no record for them, queued: N', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', queued);
    const queuedLines: unknown[] = [];
    const lines = await auditLines(queuedLines);
    const items = [...Array.from({ length: 12 }, (_, n) => nodeItem(n + 1, `team-${n % 3}`)), nodeItem(13, 'ok', 'required', 1)];
    const res = await handler(runEvent(items), lambdaContext());

    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 0);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 0);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.QueueUrl)).toEqual([QUEUE, QUEUE]);
    expect(calls.map((c) => c.Entries!.map((e) => e.Id))).toEqual([
      ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      ['0', '1'],
    ]);
    const bodies = sent();
    expect(bodies.map((b) => b.resource.id)).toEqual(Array.from({ length: 12 }, (_, n) => id(n + 1)));
    expect(bodies[0]).toEqual({
      schema: 'imds-guard.remediation/v1',
      id: `ev-queue-1:${id(1)}`,
      queuedAt: expect.any(String),
      trigger: expect.objectContaining({ source: 'cloudtrail', eventName: 'RunInstances', eventId: 'ev-queue-1' }),
      resource: {
        type: 'instance',
        id: id(1),
        arn: `arn:aws:ec2:${bodies[0]!.resource.region}:${bodies[0]!.resource.account}:instance/${id(1)}`,
        region: bodies[0]!.resource.region,
        account: bodies[0]!.resource.account,
        cluster: 'payments',
        nodegroup: 'ng-a',
        owner: 'team-0',
      },
      before: { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' },
      desired: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' },
      change: { httpTokens: 'required', hopLimit: 1 },
      violations: expect.any(Array),
    });
    // Every body is a valid item for the consumer.
    for (const b of bodies) expect(parseQueueItem(JSON.stringify(b), 1).ok).toBe(true);
    expect(res).toMatchObject({ status: 'done', queued: 12, counts: { compliant: 1 } });
    // The compliant node is the only record (logged); nothing to publish.
    expect(lines.map((l) => `${l.outcome} ${l.resource.id}`)).toEqual([`compliant ${id(13)}`]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
    // One `queued` line per item: instance, owner, change.
    expect(queuedLines).toHaveLength(12);
    expect(queuedLines[0]).toMatchObject({ instance: id(1), owner: 'team-0', change: { httpTokens: 'required', hopLimit: 1 } });
  });

  it('routes an item to the same owner, cluster and node group as the direct path does', async () => {
    const event = runEvent([nodeItem(1, undefined)], 'ev-route');
    const d = await loadFunction<Mod>('../../functions/enforce-instances.js', direct);
    const lines = await auditLines();
    await d.handler(event, lambdaContext());
    const directResource = lines.find((l) => l.outcome === 'remediated')!.resource;
    const q = await loadFunction<Mod>('../../functions/enforce-instances.js', queued);
    await q.handler(event, lambdaContext());
    expect(directResource.owner).toBe('from-nodegroup');
    expect(sent()[0]!.resource).toEqual(directResource);
  });

  it('SendMessageBatch failing: the invocation throws (Lambda retries), nothing is dropped silently', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', queued);
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('KMS key disabled'), { name: 'KmsDisabled' }));
    await expect(handler(runEvent([nodeItem(1, 'a')]), lambdaContext())).rejects.toThrow(/KMS key disabled/);
    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 0);
  });

  it('entries SQS refuses twice: the invocation throws naming them', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', queued);
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] });
    await expect(handler(runEvent([nodeItem(1, 'a')]), lambdaContext())).rejects.toThrow(new RegExp(id(1)));
  });

  it('dry run with a queue: would-remediate records, nothing sent', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', { ...queued, MODE: 'dry-run' });
    const res = await handler(runEvent([nodeItem(1, 'a'), nodeItem(2, 'b')]), lambdaContext());
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 0);
    expect(res).toMatchObject({ status: 'done', queued: 0, counts: { 'would-remediate': 2 } });
  });
});

describe('idempotency store unavailable: fails open', () => {
  const nodes = Array.from({ length: 30 }, (_, n) => nodeItem(n + 1, `team-${n % 5}`));
  const down = () => ddb.onAnyCommand().rejects(Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' }));

  it('queue path: all 30 nodes still enqueued, with the warning and the metric', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', {
      ...queued,
      IDEMPOTENCY_TABLE: 'imds-guard-idem',
    });
    down();
    const { logger, metrics } = await import('../../lib/shell/observability.js');
    const warn = vi.spyOn(logger, 'warn');
    const metric = vi.spyOn(metrics, 'addMetric');
    const res = await handler(runEvent(nodes, 'ev-ddb-down'), lambdaContext());
    expect(ddb.calls().length).toBeGreaterThan(0);
    expect(sent().map((b) => b.resource.id)).toEqual(nodes.map((n) => n.instanceId));
    expect(res).toMatchObject({ status: 'done', queued: 30 });
    expect(warn).toHaveBeenCalledWith(
      'idempotency store unavailable: running without it (a duplicate message is possible)',
      expect.objectContaining({ error: expect.objectContaining({ name: 'IdempotencyPersistenceLayerError' }) }),
    );
    expect(metric).toHaveBeenCalledWith('idempotencyUnavailable', expect.anything(), 1);
  });

  it('direct path: all 30 nodes still fixed', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', {
      ...direct,
      IDEMPOTENCY_TABLE: 'imds-guard-idem',
    });
    down();
    const res = await handler(runEvent(nodes, 'ev-ddb-down-2'), lambdaContext());
    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 30);
    expect(res).toMatchObject({ status: 'done', queued: 0, counts: { remediated: 30 } });
  });

  it('a run that fails is not run a second time when the store also fails', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', {
      ...queued,
      IDEMPOTENCY_TABLE: 'imds-guard-idem',
    });
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('queue gone'), { name: 'QueueDoesNotExist' }));
    down();
    await expect(handler(runEvent(nodes.slice(0, 3), 'ev-ddb-down-3'), lambdaContext())).rejects.toThrow(/queue gone/);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });
});
