// DynamoDB Query (on the table or a global secondary index) and BatchWriteItem (puts only) for the sandbox:
// what the audit store (lib/shell/audit-store.ts) sends. Key conditions use the same expression grammar as
// conditions (dynamodb.ts); items come back sorted by the sort key, paged by Limit and ExclusiveStartKey.
import { AwsError } from '../errors.js';
import type { Item, Table } from './dynamodb.js';

export interface IndexDef {
  name: string;
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
}

type Matcher = (
  expr: string,
) => (item: Item, names: Record<string, string>, values: Record<string, Item[string]>, used: Set<string>) => boolean;

const validation = (m: string) => new AwsError('ValidationException', m);

function sortValue(v: Item[string] | undefined): string | number {
  if (v?.N !== undefined) return Number(v.N);
  return v?.S ?? v?.B ?? '';
}

/** Query: the items whose keys match, sorted by the (index's) sort key. */
export function query(t: Table, input: any, matcher: Matcher) {
  const keySchema = input.IndexName ? t.indexes.find((i) => i.name === input.IndexName)?.keySchema : t.keySchema;
  if (!keySchema) throw validation(`The table does not have the specified index: ${input.IndexName}`);
  if (input.IndexName && input.ConsistentRead) throw validation('Consistent reads are not supported on global secondary indexes');
  if (!input.KeyConditionExpression) throw validation('Either the KeyConditions or KeyConditionExpression parameter must be specified');
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const matches = matcher(input.KeyConditionExpression);
  const used = new Set<string>();
  const range = keySchema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  const keyNames = keySchema.map((k) => k.AttributeName);
  let items = [...t.items.values()].filter((item) => keyNames.every((k) => item[k]) && matches(item, names, values, used));
  if (range) items.sort((a, b) => (sortValue(a[range]) < sortValue(b[range]) ? -1 : sortValue(a[range]) > sortValue(b[range]) ? 1 : 0));
  if (input.ScanIndexForward === false) items.reverse();
  const tableKeys = t.keySchema.map((k) => k.AttributeName);
  const keyOfItem = (item: Item) => Object.fromEntries([...new Set([...tableKeys, ...keyNames])].map((k) => [k, item[k]]));
  if (input.ExclusiveStartKey) {
    const at = items.findIndex((i) => JSON.stringify(keyOfItem(i)) === JSON.stringify(keyOfItem(input.ExclusiveStartKey)));
    items = at >= 0 ? items.slice(at + 1) : items;
  }
  const limit = typeof input.Limit === 'number' ? input.Limit : items.length;
  const page = items.slice(0, limit);
  const last = page.length < items.length ? page.at(-1) : undefined;
  return {
    Items: page.map((i) => structuredClone(i)),
    Count: page.length,
    ScannedCount: page.length,
    ...(last ? { LastEvaluatedKey: keyOfItem(last) } : {}),
  };
}

/** BatchWriteItem with PutRequests, at most 25 per call; every item is processed. */
export function batchWrite(input: any, table: (name: string) => Table, put: (t: Table, item: Item) => void) {
  const entries = Object.entries((input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: Item } }[]>);
  const total = entries.reduce((n, [, reqs]) => n + reqs.length, 0);
  if (total < 1 || total > 25)
    throw validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must have 1-25 items");
  for (const [name, reqs] of entries) {
    const t = table(name);
    for (const r of reqs) {
      if (!r.PutRequest) throw new AwsError('ValidationException', 'the imds-guard sandbox implements PutRequest only');
      put(t, r.PutRequest.Item);
    }
  }
  return { UnprocessedItems: {} };
}
