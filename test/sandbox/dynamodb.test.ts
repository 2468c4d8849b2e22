// The sandbox's DynamoDB speaks JSON 1.0 to the real SDK client, with the behaviours Powertools Idempotency
// relies on: conditional writes, ConditionalCheckFailedException carrying the old item, AWS's validation.
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
let ddb: DynamoDBClient;
beforeAll(async () => {
  h = await harness();
  ddb = new DynamoDBClient(h.cfg);
  await ddb.send(
    new CreateTableCommand({
      TableName: 'idem',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
});
afterAll(() => h.sb.close());

// The exact condition Powertools' DynamoDBPersistenceLayer puts an in-progress record with.
const POWERTOOLS_CONDITION =
  'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)';
const putInProgress = (id: string, now: number) =>
  ddb.send(
    new PutItemCommand({
      TableName: 'idem',
      Item: {
        id: { S: id },
        expiration: { N: String(Math.floor(now / 1000) + 3600) },
        status: { S: 'INPROGRESS' },
        in_progress_expiration: { N: String(now + 1000) },
      },
      ConditionExpression: POWERTOOLS_CONDITION,
      ExpressionAttributeNames: {
        '#id': 'id',
        '#expiry': 'expiration',
        '#in_progress_expiry': 'in_progress_expiration',
        '#status': 'status',
      },
      ExpressionAttributeValues: {
        ':now': { N: String(now / 1000) },
        ':now_in_millis': { N: String(now) },
        ':inprogress': { S: 'INPROGRESS' },
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );

describe('DynamoDB (JSON 1.0)', () => {
  it("Powertools' put: first wins; a second within the in-progress window fails with the stored item; after it, succeeds", async () => {
    const now = Date.now();
    await putInProgress('k1', now);
    const err = (await errorOf(putInProgress('k1', now + 10))) as Error & { Item?: unknown };
    expect(err.name).toBe('ConditionalCheckFailedException');
    expect(err.Item).toMatchObject({ id: { S: 'k1' }, status: { S: 'INPROGRESS' } });
    await putInProgress('k1', now + 2000);
  });

  it('update (SET), get, delete', async () => {
    await ddb.send(
      new UpdateItemCommand({
        TableName: 'idem',
        Key: { id: { S: 'k2' } },
        UpdateExpression: 'SET #expiry = :expiry, #status = :status, #response_data = :response_data',
        ExpressionAttributeNames: { '#expiry': 'expiration', '#status': 'status', '#response_data': 'data' },
        ExpressionAttributeValues: {
          ':expiry': { N: '1' },
          ':status': { S: 'COMPLETED' },
          ':response_data': { M: { ok: { BOOL: true } } },
        },
      }),
    );
    const got = await ddb.send(new GetItemCommand({ TableName: 'idem', Key: { id: { S: 'k2' } }, ConsistentRead: true }));
    expect(got.Item).toEqual({ id: { S: 'k2' }, expiration: { N: '1' }, status: { S: 'COMPLETED' }, data: { M: { ok: { BOOL: true } } } });
    await ddb.send(new DeleteItemCommand({ TableName: 'idem', Key: { id: { S: 'k2' } } }));
    expect((await ddb.send(new GetItemCommand({ TableName: 'idem', Key: { id: { S: 'k2' } } }))).Item).toBeUndefined();
  });

  it('validates as AWS does: unknown table, key schema, unused or undefined names, unsupported grammar', async () => {
    const put = (input: Partial<ConstructorParameters<typeof PutItemCommand>[0]>) =>
      errorOf(ddb.send(new PutItemCommand({ TableName: 'idem', Item: { id: { S: 'x' } }, ...input })));
    expect((await put({ TableName: 'nope' })).name).toBe('ResourceNotFoundException');
    expect((await put({ Item: { other: { S: 'x' } } })).message).toMatch(/Missing the key id/);
    expect(
      (await put({ ConditionExpression: 'attribute_exists(#a)', ExpressionAttributeNames: { '#a': 'id', '#b': 'x' } })).message,
    ).toMatch(/unused in expressions: keys: \{#b\}/);
    expect((await put({ ConditionExpression: '#a = :v', ExpressionAttributeNames: { '#a': 'id' } })).message).toMatch(
      /attribute value: :v/,
    );
    expect((await put({ ConditionExpression: 'size(id) > :v', ExpressionAttributeValues: { ':v': { N: '1' } } })).name).toBe(
      'ValidationException',
    );
    expect((await errorOf(ddb.send(new GetItemCommand({ TableName: 'idem', Key: { id: { N: '1' } } })))).message).toMatch(/Type mismatch/);
  });

  it('faults apply as to any operation: a throttle the SDK knows to retry', async () => {
    h.sb.setFaults({ errors: { GetItem: { rate: 1, kind: 'throttle' } } });
    try {
      expect((await errorOf(ddb.send(new GetItemCommand({ TableName: 'idem', Key: { id: { S: 'k1' } } })))).name).toBe(
        'ProvisionedThroughputExceededException',
      );
    } finally {
      h.sb.setFaults({});
    }
  });
});
