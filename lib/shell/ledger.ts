// The remediation ledger: what the queue consumer already did for an item, so a redelivered message makes no
// second ModifyInstanceMetadataOptions call and no second owner message, and a failed Publish is retried
// without a second Modify. One DynamoDB item per queue item in the idempotency table (`remediation#<id>`),
// expiring like the idempotency records. Every read and write fails open: the caller is told the ledger is
// unavailable and goes on (Modify is idempotent; at worst an owner hears twice).
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AuditRecord } from '../domain/audit.js';
import { logger } from './observability.js';

export type LedgerEntry = { state: 'modified'; record: AuditRecord } | { state: 'published' };

const TTL_SECONDS = 24 * 60 * 60;
const key = (id: string) => ({ id: { S: `remediation#${id}` } });

/**
 * @example
 * const ledger = new Ledger(new DynamoDBClient({}), 'imds-guard-prod-idempotency');
 * if ((await ledger.get(item.id))?.state === 'published') return; // duplicate delivery
 */
export class Ledger {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** The entry, `undefined` when there is none, or `'unavailable'` when DynamoDB did not answer. */
  async get(id: string): Promise<LedgerEntry | undefined | 'unavailable'> {
    try {
      const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: key(id), ConsistentRead: true }));
      const state = out.Item?.state?.S;
      if (state === 'published') return { state };
      if (state === 'modified' && out.Item?.record?.S) return { state, record: JSON.parse(out.Item.record.S) as AuditRecord };
      return undefined;
    } catch (err) {
      unavailable('read', id, err);
      return 'unavailable';
    }
  }

  async modified(id: string, record: AuditRecord): Promise<void> {
    await this.write(id, 'modified', JSON.stringify(record));
  }

  async published(id: string): Promise<void> {
    await this.write(id, 'published');
  }

  private async write(id: string, state: LedgerEntry['state'], record?: string): Promise<void> {
    const expiration = { N: String(Math.floor(Date.now() / 1000) + TTL_SECONDS) };
    try {
      if (record) {
        await this.db.send(
          new PutItemCommand({ TableName: this.table, Item: { ...key(id), state: { S: state }, record: { S: record }, expiration } }),
        );
      } else {
        await this.db.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: key(id),
            UpdateExpression: 'SET #s = :s, expiration = :e REMOVE #r',
            ExpressionAttributeNames: { '#s': 'state', '#r': 'record' },
            ExpressionAttributeValues: { ':s': { S: state }, ':e': expiration },
          }),
        );
      }
    } catch (err) {
      unavailable('write', id, err);
    }
  }
}

function unavailable(op: string, id: string, err: unknown): void {
  const e = err as { name?: string; message?: string };
  logger.warn(`remediation ledger unavailable (${op}): going on; a duplicate owner message is possible`, {
    item: id,
    error: { name: e?.name ?? 'Error', message: e?.message ?? String(err) },
  });
}
