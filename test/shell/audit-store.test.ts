// The audit store against the sandbox's DynamoDB: what is written is read back by trigger and by time range,
// and a write that fails is logged and counted, never thrown.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildRecord, type AuditRecord } from '../../lib/domain/audit.js';
import { auditItem, auditStoreFor, auditTableRef, keepRecords, readAuditRecords } from '../../lib/shell/audit-store.js';
import { loadConfig } from '../../lib/shell/config.js';
import { logger, metrics } from '../../lib/shell/observability.js';
import { instanceResource } from '../helpers/records.js';
import { createAuditTable, startTestSandbox } from '../helpers/sandbox.js';
import type { Sandbox } from '../../sandbox/server.js';

const REGION = 'eu-west-1';
let sb: Sandbox;
let db: DynamoDBClient;

function rec(eventId: string, id: string, time: string, outcome: AuditRecord['outcome'] = 'remediated'): AuditRecord {
  const trigger = {
    source: 'cloudtrail' as const,
    eventName: 'RunInstances',
    eventId,
    eventTime: time,
    actor: 'a',
    region: REGION,
    account: '111122223333',
  };
  return buildRecord({ trigger, mode: 'enforce', time, resource: instanceResource(id, { owner: 'team' }), outcome });
}

beforeAll(async () => {
  sb = await startTestSandbox();
  process.env.AWS_ENDPOINT_URL = sb.url;
  db = new DynamoDBClient({ region: REGION, endpoint: sb.url });
  await createAuditTable(sb.url, REGION, 'audit');
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL;
  await sb.close();
});
afterEach(() => vi.restoreAllMocks());

describe('audit store', () => {
  const store = () => auditStoreFor(loadConfig({ AUDIT_TABLE: 'audit', AUDIT_RETENTION_DAYS: '30' }), REGION);

  it('is off without AUDIT_TABLE, and takes a name or an ARN (whose Region it uses)', () => {
    expect(auditStoreFor(loadConfig({}), REGION)).toBeUndefined();
    expect(auditTableRef('arn:aws:dynamodb:us-west-2:111122223333:table/imds-guard-audit')).toEqual({
      name: 'imds-guard-audit',
      region: 'us-west-2',
    });
    expect(() => loadConfig({ AUDIT_TABLE: 'a b' })).toThrow(/AUDIT_TABLE/);
  });

  it('reads back every record of one trigger (more than one BatchWriteItem), and a time range across days', async () => {
    const many = Array.from({ length: 60 }, (_, i) => rec('ev-many', `i-${String(i).padStart(8, '0')}`, '2026-11-20T10:00:00.000Z'));
    const other = [rec('ev-a', 'i-aaaaaaaa', '2026-11-18T23:59:59.000Z'), rec('ev-b', 'i-bbbbbbbb', '2026-11-21T00:00:01.000Z', 'failed')];
    await keepRecords(store(), [...many, ...other]);
    const back = await readAuditRecords(db, 'audit', { eventId: 'ev-many' });
    expect(back).toHaveLength(60);
    expect(back[0]).toEqual(many.find((r) => r.id === back[0]!.id));
    const range = await readAuditRecords(db, 'audit', { since: '2026-11-18T23:59:59Z', until: '2026-11-21T00:00:00Z' });
    expect(range.map((r) => r.trigger.eventId).sort()).toEqual(['ev-a', ...many.map(() => 'ev-many')]);
    const later = await readAuditRecords(db, 'arn:aws:dynamodb:eu-west-1:111122223333:table/audit', {
      since: '2026-11-20T10:00:01Z',
      until: '2026-11-22T00:00:00Z',
    });
    expect(later.map((r) => r.outcome)).toEqual(['failed']);
  });

  it('expires a record retentionDays after it was made (TTL in epoch seconds)', () => {
    const r = rec('ev-t', 'i-cccccccc', '2026-11-20T00:00:00.000Z');
    expect(Number(auditItem(r, 30).expiresAt?.N)).toBe(Date.parse('2026-12-20T00:00:00Z') / 1000);
  });

  it('a failed write is logged with the lost ids and counted, and does not throw', async () => {
    const errors: unknown[] = [];
    vi.spyOn(logger, 'error').mockImplementation((_m: unknown, ...x: unknown[]) => void errors.push(x[0]));
    const metric = vi.spyOn(metrics, 'addMetric');
    const missing = auditStoreFor(loadConfig({ AUDIT_TABLE: 'no-such-table' }), REGION);
    await expect(keepRecords(missing, [rec('ev-x', 'i-dddddddd', '2026-11-20T00:00:00.000Z')])).resolves.toBeUndefined();
    expect(JSON.stringify(errors)).toContain('ev-x:i-dddddddd');
    expect(metric).toHaveBeenCalledWith('auditStoreFailures', 'Count', 1);
  });
});
