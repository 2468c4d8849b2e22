import { describe, expect, it } from 'vitest';
import { buildRecord, type AuditRecord } from '../../lib/domain/audit.js';
import { messageGroups, MAX_RECORDS_PER_MESSAGE, renderOwnerMessage } from '../../lib/report/message.js';
import { ChatbotCustomMessage } from '../helpers/chatbot-schema.js';
import { instanceResource } from '../helpers/records.js';

const trigger = {
  source: 'cloudtrail' as const,
  eventName: 'RunInstances',
  eventId: 'ev-1',
  eventTime: '2026-11-20T10:15:30Z',
  actor: 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice',
  sourceIp: '203.0.113.10',
  region: 'eu-west-1',
  account: '111122223333',
};

function rec(id: string, owner: string, outcome: AuditRecord['outcome'], cluster = 'payments'): AuditRecord {
  return buildRecord({
    trigger,
    mode: 'enforce',
    resource: instanceResource(id, { cluster, owner }),
    outcome,
    before: { httpTokens: 'optional', hopLimit: 2 },
    after: { httpTokens: 'required', hopLimit: 1 },
  });
}

describe('SNS owner messages', () => {
  it('one message per trigger and owner', () => {
    const groups = messageGroups([rec('i-1', 'a', 'remediated'), rec('i-2', 'b', 'remediated'), rec('i-3', 'a', 'failed')]);
    expect(groups.map((g) => g.map((r) => r.resource.id))).toEqual([['i-1', 'i-3'], ['i-2']]);
  });

  it('large groups are split to stay under the SNS size limit', () => {
    const many = Array.from({ length: MAX_RECORDS_PER_MESSAGE * 2 + 1 }, (_, n) => rec(`i-${n}`, 'a', 'remediated'));
    const groups = messageGroups(many);
    expect(groups.map((g) => g.length)).toEqual([MAX_RECORDS_PER_MESSAGE, MAX_RECORDS_PER_MESSAGE, 1]);
    for (const g of groups) expect(Buffer.byteLength(renderOwnerMessage(g).message)).toBeLessThan(256 * 1024);
  });

  it('a body per protocol, and the attributes for filter policies', () => {
    const m = renderOwnerMessage([rec('i-1', 'team-a', 'remediated'), rec('i-2', 'team-a', 'failed', 'analytics')]);
    const body = JSON.parse(m.message);
    expect(Object.keys(body).sort()).toEqual(['default', 'email', 'https', 'lambda', 'sqs']);
    for (const k of ['default', 'sqs', 'lambda']) {
      const audit = JSON.parse(body[k]);
      expect(audit.records).toHaveLength(2);
      expect(audit.records[0]).toMatchObject({
        schema: 'imds-guard.audit/v1',
        id: 'ev-1:i-1',
        outcome: 'remediated',
        before: { httpTokens: 'optional' },
      });
    }
    expect(body.email).toContain('REMEDIATED instance i-1');
    expect(body.email).toContain('tokens=optional hop=2 -> tokens=required hop=1');
    expect(body.email).toContain('alice');
    expect(m.attributes).toEqual({
      outcome: 'failed',
      severity: 'high',
      owner: 'team-a',
      cluster: 'payments,analytics',
      account: '111122223333',
      region: 'eu-west-1',
      resourceType: 'instance',
      eventName: 'RunInstances',
    });
    expect(m.subject.length).toBeLessThan(100);
  });

  it('the https body is a valid Amazon Q Developer / Chatbot custom message', () => {
    const m = renderOwnerMessage([rec('i-1', 'a', 'remediated'), rec('i-2', 'a', 'would-remediate')]);
    const https = JSON.parse(JSON.parse(m.message).https);
    expect(ChatbotCustomMessage.safeParse(https).success).toBe(true);
    expect(https.content.description).toContain('i-1');
    // The schema can fail: an extra field is rejected.
    expect(ChatbotCustomMessage.safeParse({ ...https, extra: 1 }).success).toBe(false);
  });
});
