// The remediation queue consumer, through its built function module, against mocked EC2 / SQS / SNS / DynamoDB.
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toQueueItem } from '../../lib/kinds/instance/queue-item.js';
import { TOPIC, lambdaContext, loadFunction } from '../helpers/lambda.js';
import { instanceResource } from '../helpers/records.js';

type Mod = typeof import('../../functions/remediate-instances.js');
const ec2 = mockClient(EC2Client);
const sns = mockClient(SNSClient);
const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBClient);
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/111122223333/imds-guard-prod-remediation';
const env = { TOPIC_ARN: TOPIC, REMEDIATION_QUEUE_URL: QUEUE, MAX_RECEIVES: '4', MAX_ATTEMPTS: '2' };

const trigger = (eventTime = '2026-01-01T00:00:00Z') => ({
  source: 'cloudtrail' as const,
  eventName: 'RunInstances',
  eventId: 'ev-1',
  eventTime,
  actor: 'arn:aws:sts::111122223333:assumed-role/ops/x',
  region: 'eu-west-1',
  account: '111122223333',
});
function item(n: number, over: { eventTime?: string; owner?: string; hopLimit?: number } = {}) {
  const id = `i-0000000000000${String(n).padStart(4, '0')}`;
  return toQueueItem({
    trigger: trigger(over.eventTime),
    resource: instanceResource(id, { cluster: 'payments', owner: over.owner ?? 'payments' }),
    before: { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' },
    remediation: { httpTokens: 'required', hopLimit: over.hopLimit ?? 1 },
    maxHopLimit: 1,
    violations: ['HttpTokens is optional, expected required'],
  });
}
function sqsRecord(body: unknown, n: number, receiveCount = 1): SQSRecord {
  return {
    messageId: `m-${n}`,
    receiptHandle: `rh-${n}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:imds-guard-prod-remediation',
    awsRegion: 'eu-west-1',
  };
}
const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const published = () => sns.commandCalls(PublishCommand).map((c) => JSON.parse(JSON.parse(c.args[0].input.Message!).lambda));

beforeEach(() => {
  for (const m of [ec2, sns, sqs, ddb]) m.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  ec2.on(ModifyInstanceMetadataOptionsCommand).callsFake((input) => ({
    InstanceId: input.InstanceId,
    InstanceMetadataOptions: { State: 'pending', HttpTokens: input.HttpTokens, HttpPutResponseHopLimit: input.HttpPutResponseHopLimit },
    $metadata: { requestId: 'rid-1' },
  }));
});
afterEach(() => vi.unstubAllEnvs());

describe('remediate-instances (queue consumer)', () => {
  it('one Modify per item with tokens and hop limit together, no Describe, one message per trigger and owner', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/remediate-instances.js', env);
    const res = await handler(
      batch(sqsRecord(item(1), 1), sqsRecord(item(2), 2), sqsRecord(item(3, { owner: 'search' }), 3)),
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
    const calls = ec2.commandCalls(ModifyInstanceMetadataOptionsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(3);
    for (const c of calls) expect(c).toEqual({ InstanceId: expect.any(String), HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    const bodies = published();
    expect(bodies).toHaveLength(2);
    const records = bodies.flatMap((b) => b.records);
    expect(records.map((r: any) => r.outcome)).toEqual(['remediated', 'remediated', 'remediated']);
    expect(records[0]).toMatchObject({
      id: 'ev-1:i-00000000000000001',
      after: { httpTokens: 'required', hopLimit: 1 },
      requestId: 'rid-1',
    });
  });

  it('a malformed, foreign or loosening message is dropped with no AWS call and never blocks the batch', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/remediate-instances.js', env);
    const loosening = { ...item(2), change: { httpTokens: 'required', hopLimit: 3 } };
    const res = await handler(
      batch(sqsRecord('not json', 1), sqsRecord({ hello: 'world' }, 2), sqsRecord(loosening, 3), sqsRecord(item(4), 4)),
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(ec2.commandCalls(ModifyInstanceMetadataOptionsCommand).map((c) => c.args[0].input.InstanceId)).toEqual(['i-00000000000000004']);
  });

  it('a throttled item comes back later with a growing delay; the others are done; nothing is published for it', async () => {
    ec2
      .on(ModifyInstanceMetadataOptionsCommand, { InstanceId: 'i-00000000000000002' })
      .rejects(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded', $metadata: {} }));
    const { handler } = await loadFunction<Mod>('../../functions/remediate-instances.js', env);
    const res = await handler(batch(sqsRecord(item(1), 1), sqsRecord(item(2), 2, 3)), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    const delay = sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
    expect(delay).toHaveLength(1);
    expect(delay[0]).toMatchObject({ ReceiptHandle: 'rh-2' });
    // Third receive: 40 s ± 20 %.
    expect(delay[0]!.VisibilityTimeout).toBeGreaterThanOrEqual(32);
    expect(delay[0]!.VisibilityTimeout).toBeLessThanOrEqual(48);
    expect(
      published()
        .flatMap((b) => b.records)
        .map((r: any) => r.resource.id),
    ).toEqual(['i-00000000000000001']);
  });

  it('on the last receive a failing item gets a published `failed` record before it goes to the DLQ', async () => {
    ec2.on(ModifyInstanceMetadataOptionsCommand).rejects(
      Object.assign(new Error('We encountered an internal error.\nPlease try again.'), {
        name: 'InternalError',
        $metadata: { requestId: 'rid-9' },
      }),
    );
    const { handler } = await loadFunction<Mod>('../../functions/remediate-instances.js', env);
    const res = await handler(batch(sqsRecord(item(1), 1, 4)), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    const [r] = published().flatMap((b) => b.records);
    expect(r).toMatchObject({
      outcome: 'failed',
      severity: 'high',
      error: { name: 'InternalError', message: 'We encountered an internal error.' },
    });
    expect(r.requestId).toBe('rid-9');
  });

  it('NotFound: an old launch is `gone` at once (owner and cluster from the message); a fresh one is retried', async () => {
    ec2
      .on(ModifyInstanceMetadataOptionsCommand)
      .rejects(Object.assign(new Error("The instance ID 'i-x' does not exist"), { name: 'InvalidInstanceID.NotFound', $metadata: {} }));
    const { handler } = await loadFunction<Mod>('../../functions/remediate-instances.js', env);
    const fresh = item(2, { eventTime: new Date().toISOString() });
    const res = await handler(batch(sqsRecord(item(1), 1), sqsRecord(fresh, 2)), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    const [gone] = published().flatMap((b) => b.records);
    expect(gone).toMatchObject({ outcome: 'gone', resource: { id: 'i-00000000000000001', owner: 'payments', cluster: 'payments' } });
  });

  it('the same item twice in one batch makes one Modify and one record', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/remediate-instances.js', env);
    const res = await handler(batch(sqsRecord(item(1), 1), sqsRecord(item(1), 2)), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(ec2.commandCalls(ModifyInstanceMetadataOptionsCommand)).toHaveLength(1);
    expect(published().flatMap((b) => b.records)).toHaveLength(1);
  });

  describe('with the ledger (IDEMPOTENCY_TABLE)', () => {
    const withTable = { ...env, IDEMPOTENCY_TABLE: 'imds-guard-test-idempotency' };

    it('a duplicate delivery of a published item makes no Modify and no message', async () => {
      ddb.on(GetItemCommand).resolves({ Item: { id: { S: 'remediation#ev-1:i-00000000000000001' }, state: { S: 'published' } } });
      const { handler } = await loadFunction<Mod>('../../functions/remediate-instances.js', withTable);
      const res = await handler(batch(sqsRecord(item(1), 1, 2)), lambdaContext());
      expect(res.batchItemFailures).toEqual([]);
      expect(ec2.commandCalls(ModifyInstanceMetadataOptionsCommand)).toHaveLength(0);
      expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    });

    it('a failed Publish brings the item back; the redelivery publishes the stored record with no second Modify', async () => {
      const store = new Map<string, Record<string, any>>();
      ddb.on(GetItemCommand).callsFake((i) => ({ Item: store.get(i.Key.id.S) }));
      ddb.on(PutItemCommand).callsFake((i) => void store.set(i.Item.id.S, i.Item));
      ddb.on(UpdateItemCommand).callsFake((i) => {
        const cur = store.get(i.Key.id.S) ?? { id: i.Key.id };
        store.set(i.Key.id.S, { id: cur.id, state: i.ExpressionAttributeValues[':s'] });
      });
      sns
        .on(PublishCommand)
        .rejectsOnce(Object.assign(new Error('down'), { name: 'InternalErrorException' }))
        .resolves({ MessageId: 'ok' });
      const { handler } = await loadFunction<Mod>('../../functions/remediate-instances.js', withTable);
      const first = await handler(batch(sqsRecord(item(1), 1)), lambdaContext());
      expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
      const second = await handler(batch(sqsRecord(item(1), 1, 2)), lambdaContext());
      expect(second.batchItemFailures).toEqual([]);
      expect(ec2.commandCalls(ModifyInstanceMetadataOptionsCommand)).toHaveLength(1);
      // Two Publish calls: the one that failed and the redelivery's, with the same record (same id).
      const sent = published().flatMap((b) => b.records);
      expect(sent.map((r: any) => [r.id, r.outcome])).toEqual([
        ['ev-1:i-00000000000000001', 'remediated'],
        ['ev-1:i-00000000000000001', 'remediated'],
      ]);
      const third = await handler(batch(sqsRecord(item(1), 1, 3)), lambdaContext());
      expect(third.batchItemFailures).toEqual([]);
      expect(sns.commandCalls(PublishCommand)).toHaveLength(2); // the failed attempt and the one that went out
    });

    it('DynamoDB unavailable: the node is still fixed and published (fail open)', async () => {
      ddb.on(GetItemCommand).rejects(Object.assign(new Error('unreachable'), { name: 'ServiceUnavailable' }));
      ddb.on(PutItemCommand).rejects(Object.assign(new Error('unreachable'), { name: 'ServiceUnavailable' }));
      ddb.on(UpdateItemCommand).rejects(Object.assign(new Error('unreachable'), { name: 'ServiceUnavailable' }));
      const { handler } = await loadFunction<Mod>('../../functions/remediate-instances.js', withTable);
      const res = await handler(batch(sqsRecord(item(1), 1)), lambdaContext());
      expect(res.batchItemFailures).toEqual([]);
      expect(ec2.commandCalls(ModifyInstanceMetadataOptionsCommand)).toHaveLength(1);
      expect(published()).toHaveLength(1);
    });
  });
});
