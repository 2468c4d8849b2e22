import { describe, expect, it } from 'vitest';
import { buildRecord, type AuditRecord } from '../../lib/domain/audit.js';
import { chatbotNotification } from '../../lib/report/chatbot.js';
import { emailText } from '../../lib/report/email.js';
import { groupByTriggerAndOwner } from '../../lib/report/group.js';
import { messageBytes, snsMessage } from '../../lib/report/sns-message.js';
import { ChatbotCustomMessage } from '../helpers/chatbot-schema.js';

function rec(id: string, eventId: string, owner: string): AuditRecord {
  return buildRecord({
    trigger: { source: 'cli', eventName: 'Scan', eventId, eventTime: 't', actor: 'me', region: 'eu-west-1', account: '1' },
    mode: 'dry-run',
    outcome: 'would-remediate',
    resource: { type: 'instance', id, arn: `arn:${id}`, region: 'eu-west-1', account: '1', owner },
    time: 't',
  });
}

describe('groupByTriggerAndOwner', () => {
  it('one group per trigger and owner, in first-seen order', () => {
    const groups = groupByTriggerAndOwner([rec('i-1', 'e1', 'a'), rec('i-2', 'e2', 'a'), rec('i-3', 'e1', 'b'), rec('i-4', 'e1', 'a')]);
    expect(groups.map((g) => [g.owner, g.records.map((r) => r.resource.id)])).toEqual([
      ['a', ['i-1', 'i-4']],
      ['a', ['i-2']],
      ['b', ['i-3']],
    ]);
  });

  it('the owner can come from elsewhere than the record', () => {
    const groups = groupByTriggerAndOwner([rec('i-1', 'e1', 'a'), rec('i-2', 'e1', 'b')], () => 'from-attribute');
    expect(groups).toEqual([{ owner: 'from-attribute', records: [expect.anything(), expect.anything()] }]);
  });
});

describe('chatbotNotification', () => {
  const n = chatbotNotification({
    id: 'e1:a',
    title: ':shield: t',
    description: ['line 1', '', 'line 2'],
    nextSteps: ['do it'],
    keywords: ['k'],
    threadId: 'th',
    summary: 's',
    additionalContext: { owner: 'a' },
  });

  it('is a valid Q Developer custom notification', () => {
    expect(ChatbotCustomMessage.safeParse(n).success).toBe(true);
  });

  it('joins the non-empty description lines', () => {
    expect(n.content.description).toBe('line 1\nline 2');
    expect(n.metadata).toEqual({ threadId: 'th', summary: 's', additionalContext: { owner: 'a' } });
  });
});

describe('emailText', () => {
  it('heading, aligned fields, lines and footer separated by blank lines', () => {
    const text = emailText({
      heading: 'H',
      fields: [
        ['Run', 'r1'],
        ['Account', '1'],
      ],
      labelWidth: 10,
      lines: ['a', 'b'],
      footer: ['f'],
    });
    expect(text).toBe('H\n\nRun:      r1\nAccount:  1\n\na\nb\n\nf');
  });
});

describe('snsMessage', () => {
  const m = snsMessage(
    'imds-guard ✓ ok\n',
    { audit: '{"x":1}', email: 'mail', chatbot: { id: 'c' } },
    { owner: '', cluster: 'c'.repeat(300) },
  );

  it('a body per protocol, the chat body serialized', () => {
    expect(JSON.parse(m.message)).toEqual({ default: '{"x":1}', sqs: '{"x":1}', lambda: '{"x":1}', email: 'mail', https: '{"id":"c"}' });
  });

  it('a printable subject under 100 characters', () => {
    expect(m.subject).toBe('imds-guard  ok');
    expect(snsMessage('x'.repeat(200), { audit: '', email: '', chatbot: {} }, {}).subject).toHaveLength(99);
  });

  it('attribute values between 1 and 256 characters', () => {
    expect(m.attributes.owner).toBe('none');
    expect(m.attributes.cluster).toHaveLength(256);
  });

  it('messageBytes counts message, subject and each attribute as SNS does', () => {
    expect(messageBytes({ subject: 'é', message: 'ab', attributes: { k: 'v', kk: 'vv' } })).toBe(2 + 2 + (1 + 6 + 1) + (2 + 6 + 2));
  });
});
