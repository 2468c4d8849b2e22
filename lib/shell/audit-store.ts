// The audit store: every audit record kept in a DynamoDB table (KMS-encrypted, TTL retention, point-in-time
// recovery; infra/resources.yml), so that `revert --event` reads back what one trigger changed and the report
// draws a compliance trend. Items: key (eventId, id), so one Query returns a trigger's records; the `byDay`
// index (day, at = time#id) returns a time range one day at a time. Writes never throw: a record that cannot
// be kept is logged with its id and counted (metric auditStoreFailures, alarmed), and the caller goes on to
// publish. The full record is kept as JSON in `record`, never shortened.
import { BatchWriteItemCommand, DynamoDBClient, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AuditRecord } from '../domain/audit.js';
import { errorOf } from '../domain/errors.js';
import { logger, metrics } from './observability.js';

/** The GSI that returns one UTC day's records, sorted by time. */
const AUDIT_DAY_INDEX = 'byDay';
const AUDIT_STORE_FAILURE_METRIC = 'auditStoreFailures';

/** BatchWriteItem takes at most 25 items; unprocessed ones are retried this many times, with a growing delay. */
const BATCH = 25;
const RETRIES = 4;
const DAY_MS = 86_400_000;

export interface AuditStore {
  db: DynamoDBClient;
  /** The table's name (what DynamoDB calls take). */
  table: string;
  /** AUDIT_TABLE as configured (name or ARN): what printed `revert --event … --audit-table` commands name. */
  ref: string;
  retentionDays: number;
}

/**
 * A table given by name or by ARN (the ARN also names its Region).
 *
 * @example
 * auditTableRef('arn:aws:dynamodb:eu-west-1:111122223333:table/audit'); // => { name: 'audit', region: 'eu-west-1' }
 */
export function auditTableRef(value: string): { name: string; region?: string } {
  const m = /^arn:aws[\w-]*:dynamodb:([\w-]+):\d{12}:table\/([A-Za-z0-9_.-]{3,255})$/.exec(value);
  return m?.[1] && m[2] ? { name: m[2], region: m[1] } : { name: value };
}

/**
 * The store for AUDIT_TABLE (a name or ARN), or undefined when it is unset (CLI and local runs keep no history).
 *
 * @example
 * const store = auditStoreFor(config, process.env.AWS_REGION ?? 'us-east-1'); // then keepRecords(store, records)
 */
export function auditStoreFor(
  config: { AUDIT_TABLE?: string | undefined; AUDIT_RETENTION_DAYS: number; MAX_ATTEMPTS: number },
  home: string,
): AuditStore | undefined {
  if (!config.AUDIT_TABLE) return undefined;
  const ref = auditTableRef(config.AUDIT_TABLE);
  const db = new DynamoDBClient({ region: ref.region ?? home, maxAttempts: config.MAX_ATTEMPTS });
  return { db, table: ref.name, ref: config.AUDIT_TABLE, retentionDays: config.AUDIT_RETENTION_DAYS };
}

/** The DynamoDB item of one record. Exported for tests. */
export function auditItem(r: AuditRecord, retentionDays: number): Record<string, AttributeValue> {
  const time = Date.parse(r.time);
  const at = Number.isNaN(time) ? Date.now() : time;
  return {
    eventId: { S: r.trigger.eventId },
    id: { S: r.id },
    day: { S: new Date(at).toISOString().slice(0, 10) },
    at: { S: `${r.time}#${r.id}` },
    outcome: { S: r.outcome },
    expiresAt: { N: String(Math.floor(at / 1000) + retentionDays * 86_400) },
    record: { S: JSON.stringify(r) },
  };
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/**
 * Keep every record; resolves even when DynamoDB fails (then the lost ids are logged and counted).
 *
 * @example
 * await keepRecords(store, records); // store undefined: nothing to do
 */
export async function keepRecords(store: AuditStore | undefined, records: readonly AuditRecord[]): Promise<void> {
  if (!store || !records.length) return;
  // One item per key: a record written twice in one batch is a ValidationException.
  const unique = [...new Map(records.map((r) => [`${r.trigger.eventId}\n${r.id}`, r])).values()];
  for (let i = 0; i < unique.length; i += BATCH) {
    const chunk = unique.slice(i, i + BATCH);
    try {
      await writeChunk(store, chunk);
    } catch (err) {
      lost(store, chunk, err);
    }
  }
}

async function writeChunk(store: AuditStore, chunk: AuditRecord[]): Promise<void> {
  let requests = chunk.map((r) => ({ PutRequest: { Item: auditItem(r, store.retentionDays) } }));
  for (let attempt = 0; requests.length; attempt++) {
    if (attempt > RETRIES) {
      const left = new Set(requests.map((q) => q.PutRequest.Item.id?.S));
      throw Object.assign(new Error(`${left.size} item(s) still unprocessed after ${RETRIES} retries`), {
        name: 'UnprocessedItems',
        records: chunk.filter((r) => left.has(r.id)),
      });
    }
    if (attempt) await sleep(50 * 2 ** attempt);
    const out = await store.db.send(new BatchWriteItemCommand({ RequestItems: { [store.table]: requests } }));
    requests = (out.UnprocessedItems?.[store.table] ?? []) as typeof requests;
  }
}

function lost(store: AuditStore, chunk: AuditRecord[], err: unknown): void {
  const records = ((err as { records?: AuditRecord[] }).records ?? chunk).map((r) => r.id);
  logger.error('audit store write failed: these records are in the log only', {
    auditStore: { table: store.table, lost: records.length, ids: records, error: errorOf(err) },
  });
  metrics.addMetric(AUDIT_STORE_FAILURE_METRIC, MetricUnit.Count, records.length);
}

export interface AuditQuery {
  /** ISO time (inclusive); with `until`, a range on the day index. */
  since?: string;
  /** ISO time (inclusive); default now. */
  until?: string;
  /** All records of one trigger (a CloudTrail event ID or a run ID). */
  eventId?: string;
}

async function queryAll(db: DynamoDBClient, input: ConstructorParameters<typeof QueryCommand>[0]): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await db.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of page.Items ?? []) if (item.record?.S) out.push(JSON.parse(item.record.S) as AuditRecord);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * Records read back, oldest first: those of `eventId`, and/or those between `since` and `until`.
 * A range without `since` starts 30 days before `until`. `table` is a name or an ARN.
 *
 * @example
 * const records = await readAuditRecords(new DynamoDBClient({}), 'imds-guard-prod-audit', { eventId: 'e-1' });
 * const month = await readAuditRecords(db, table, { since: '2026-11-01T00:00:00Z' });
 */
export async function readAuditRecords(db: DynamoDBClient, table: string, q: AuditQuery = {}): Promise<AuditRecord[]> {
  const TableName = auditTableRef(table).name;
  const ms = (s: string | undefined) => (s === undefined ? undefined : Date.parse(s));
  const [from, to] = [ms(q.since), ms(q.until)];
  const inRange = (r: AuditRecord) => (from === undefined || Date.parse(r.time) >= from) && (to === undefined || Date.parse(r.time) <= to);
  if (q.eventId) {
    const records = await queryAll(db, {
      TableName,
      KeyConditionExpression: 'eventId = :e',
      ExpressionAttributeValues: { ':e': { S: q.eventId } },
      ConsistentRead: true,
    });
    return records.filter(inRange).sort((a, b) => a.time.localeCompare(b.time));
  }
  const until = q.until ? Date.parse(q.until) : Date.now();
  const since = q.since ? Date.parse(q.since) : until - 30 * DAY_MS;
  if (Number.isNaN(since) || Number.isNaN(until)) throw new RangeError('readAuditRecords: since and until must be ISO times');
  const days: string[] = [];
  for (let t = Date.UTC(...utcDay(since)); t <= until; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  const perDay = await Promise.all(
    days.map((day) =>
      queryAll(db, {
        TableName,
        IndexName: AUDIT_DAY_INDEX,
        KeyConditionExpression: '#d = :d',
        ExpressionAttributeNames: { '#d': 'day' },
        ExpressionAttributeValues: { ':d': { S: day } },
      }),
    ),
  );
  return perDay.flat().filter(inRange);
}

function utcDay(ms: number): [number, number, number] {
  const d = new Date(ms);
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
}
