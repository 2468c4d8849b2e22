import { describe, expect, it } from 'vitest';
import { renderOwnerMessage } from '../../../lib/report/message.js';
import { ChatbotCustomMessage } from '../../helpers/chatbot-schema.js';
import { record, trigger } from './fixtures.js';

// Amazon Q Developer in chat applications subscribes with protocol https, so it receives the `https` body.
const httpsBody = (m: ReturnType<typeof renderOwnerMessage>) => JSON.parse(JSON.parse(m.message).https);

describe('the https body is an Amazon Q Developer custom notification', () => {
  it('many records, failed ones, user strings with markdown and markup', () => {
    const records = Array.from({ length: 40 }, (_, i) =>
      record(i + 1, i % 3 === 0 ? 'failed' : i % 3 === 1 ? 'remediated' : 'reported', {
        reason: i % 3 === 2 ? 'EKS-created template: `update` the *node group* <now> & later' : undefined,
        notes: ['pods in kube-system use the node role'],
      }),
    );
    const body = httpsBody(renderOwnerMessage(records));
    expect(ChatbotCustomMessage.parse(body)).toEqual(body);
    expect(body.content.title).toMatch(/^:x: imds-guard: /);
    expect(body.content.description).toContain('…and 30 more');
    expect(body.content.nextSteps).toContain('Check the failed resources and the imds-guard logs');
  });

  it('a dry run (would-remediate plus a failed describe)', () => {
    const dry = [
      ...Array.from({ length: 12 }, (_, i) => record(i + 1, 'would-remediate')),
      { ...record(99, 'failed'), mode: 'dry-run' as const },
    ];
    const m = renderOwnerMessage(dry);
    const body = httpsBody(m);
    expect(ChatbotCustomMessage.parse(body)).toEqual(body);
    expect(body.content.title).toContain('(dry run)');
    expect(body.content.nextSteps).toContain('Run imds-guard enforce to apply');
    // The other protocols still get their own bodies.
    expect(Object.keys(JSON.parse(m.message)).sort()).toEqual(['default', 'email', 'https', 'lambda', 'sqs']);
    expect(m.attributes).toMatchObject({ owner: 'payments', outcome: 'failed' });
  });

  it('a single record from a backfill without a cluster', () => {
    const r = record(1, 'remediated', { trigger: { ...trigger, source: 'backfill', eventName: 'Backfill' } });
    const body = httpsBody(renderOwnerMessage([{ ...r, resource: { ...r.resource, cluster: undefined, nodegroup: undefined } }]));
    expect(ChatbotCustomMessage.parse(body)).toEqual(body);
  });
});
