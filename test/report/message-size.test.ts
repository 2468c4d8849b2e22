import { describe, expect, it } from 'vitest';
import { buildRecord, type AuditRecord } from '../../lib/domain/audit.js';
import {
  MAX_MESSAGE_BYTES,
  MAX_RECORDS_PER_MESSAGE,
  messageGroups,
  renderOwnerMessage,
  renderOwnerMessages,
} from '../../lib/report/message.js';
import { messageBytes } from '../../lib/report/sns-message.js';
import { ChatbotCustomMessage } from '../helpers/chatbot-schema.js';
import { instanceResource } from '../helpers/records.js';

const SNS_LIMIT = 262_144;
const trigger = {
  source: 'cloudtrail' as const,
  eventName: 'RunInstances',
  eventId: 'ev-big',
  eventTime: '2026-11-20T10:15:30Z',
  actor: 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice',
  sourceIp: '203.0.113.10',
  region: 'eu-west-1',
  account: '111122223333',
};

// Deterministic stand-in for the base64url blob of an encoded authorization failure message.
function blob(seed: number, length: number): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let x = seed * 2654435761 + 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out += abc[x % 64];
  }
  return out;
}

function failed(n: number, encodedChars = 1_700): AuditRecord {
  const id = `i-0${String(n).padStart(16, '0')}`;
  return buildRecord({
    trigger,
    mode: 'enforce',
    resource: instanceResource(id, { cluster: 'payments', owner: 'team-a' }),
    outcome: 'failed',
    before: { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' },
    desired: { httpTokens: 'required', hopLimit: 1 },
    violations: ['metadata-options.http-tokens=optional', 'metadata-options.http-put-response-hop-limit=2'],
    reason: 'could not modify the instance metadata options',
    error: {
      name: 'UnauthorizedOperation',
      message: `You are not authorized to perform this operation. User: arn:aws:sts::111122223333:assumed-role/imds-guard-enforce-instances/imds-guard is not authorized to perform: ec2:ModifyInstanceMetadataOptions on resource: arn:aws:ec2:eu-west-1:111122223333:instance/${id} with an explicit deny in a service control policy. Encoded authorization failure message: ${blob(n, encodedChars)}`,
    },
    requestId: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
  });
}

function auditRecordsOf(m: { message: string }): AuditRecord[] {
  const body = JSON.parse(m.message);
  const lists = ['default', 'sqs', 'lambda'].map((k) => JSON.parse(body[k]).records as AuditRecord[]);
  expect(lists[1]).toEqual(lists[0]);
  expect(lists[2]).toEqual(lists[0]);
  return lists[0]!;
}

describe('SNS message size', () => {
  const records = Array.from({ length: MAX_RECORDS_PER_MESSAGE }, (_, n) => failed(n));

  it('40 failed records with encoded IAM errors overflow one message when grouped by count alone', () => {
    const [group] = messageGroups(records);
    expect(group).toHaveLength(40);
    expect(messageBytes(renderOwnerMessage(group!))).toBeGreaterThan(SNS_LIMIT);
  });

  it('are split so every message fits, and every record is published exactly once, whole', () => {
    const messages = renderOwnerMessages(records);
    expect(messages.length).toBeGreaterThan(1);
    const seen: string[] = [];
    for (const m of messages) {
      expect(messageBytes(m)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(Buffer.byteLength(m.message, 'utf8')).toBeLessThan(SNS_LIMIT);
      const sent = auditRecordsOf(m);
      expect(sent.map((r) => r.id)).toEqual(m.records.map((r) => r.id));
      for (const r of sent) expect(r.truncated).toBeUndefined();
      seen.push(...sent.map((r) => r.id));
      // Every protocol body is still there, and the chat body stays valid.
      const body = JSON.parse(m.message);
      expect(Object.keys(body).sort()).toEqual(['default', 'email', 'https', 'lambda', 'sqs']);
      expect(ChatbotCustomMessage.safeParse(JSON.parse(body.https)).success).toBe(true);
    }
    expect(seen.sort()).toEqual(records.map((r) => r.id).sort());
    expect(new Set(seen).size).toBe(records.length);
    // Each part is its own chat notification.
    const chatIds = messages.map((m) => JSON.parse(JSON.parse(m.message).https).id);
    expect(new Set(chatIds).size).toBe(messages.length);
  });

  it('a record too large to fit alone is published shortened, not dropped', () => {
    const huge = failed(7, 400_000);
    const small = failed(8);
    const messages = renderOwnerMessages([huge, small]);
    const sent = messages.flatMap(auditRecordsOf);
    expect(sent.map((r) => r.id).sort()).toEqual([huge.id, small.id].sort());
    for (const m of messages) expect(messageBytes(m)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const shortened = sent.find((r) => r.id === huge.id)!;
    expect(shortened).toMatchObject({
      truncated: true,
      outcome: 'failed',
      resource: huge.resource,
      error: { name: 'UnauthorizedOperation' },
    });
    expect(shortened.error!.message).toMatch(/\[truncated\]$/);
    expect(sent.find((r) => r.id === small.id)!.truncated).toBeUndefined();
    // The publish count still covers the original record.
    expect(messages.flatMap((m) => m.records)).toContain(huge);
  });

  it('bulky details are left out of a shortened record', () => {
    const r = { ...failed(9), details: { dump: blob(9, 600_000) } };
    const [m] = renderOwnerMessages([r]);
    expect(messageBytes(m!)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const [sent] = auditRecordsOf(m!);
    expect(sent).toMatchObject({ id: r.id, truncated: true });
    expect(sent!.details).toBeUndefined();
  });

  it('attribute values are capped as published, so the measure matches', () => {
    const many = Array.from({ length: 60 }, (_, n) => ({
      ...failed(n, 10),
      resource: { ...failed(n, 10).resource, cluster: `cluster-with-a-long-name-${n}` },
    }));
    for (const m of renderOwnerMessages(many)) expect(m.attributes.cluster!.length).toBeLessThanOrEqual(256);
  });
});
