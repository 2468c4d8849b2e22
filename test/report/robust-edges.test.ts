// Robust edges of the owner messages (issue 17, attack 6): a cap per event, well-formed UTF-16, clipped tags.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGES_PER_EVENT, renderOwnerMessages } from '../../lib/report/message.js';
import { publishMessages } from '../../lib/report/sns.js';
import { record } from './slack/fixtures.js';

const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('owner messages: robust edges', () => {
  it('one event naming 10,000 instances of 300 owners: at most 20 owner messages and one summary', () => {
    const records = Array.from({ length: 10_000 }, (_, i) => record(i + 1, 'remediated', { owner: `team-${i % 300}` }));
    const messages = renderOwnerMessages(records);
    expect(messages).toHaveLength(MAX_MESSAGES_PER_EVENT + 1);
    const summary = messages.at(-1)!;
    expect(summary.attributes.resourceType).toBe('summary');
    const shown = messages.slice(0, -1).reduce((n, m) => n + m.records.length, 0);
    expect(summary.subject).toContain(`${10_000 - shown} more records for 280 owners were folded`);
  });

  it('a lone surrogate in a tag reaches Publish as well-formed UTF-16, and a long tag is clipped in the message', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const r = record(1, 'remediated', { owner: `team\ud800${'x'.repeat(400)}` });
    const long = { ...r, resource: { ...r.resource, cluster: `c\udc00${'y'.repeat(400)}` } };
    const messages = renderOwnerMessages([long]);
    await publishMessages(new SNSClient({ region: 'eu-west-1' }), 'arn:aws:sns:eu-west-1:111122223333:t', messages);
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    for (const v of [input.Subject!, input.Message!, ...Object.values(input.MessageAttributes!).map((a) => a.StringValue!)])
      expect(LONE.test(v)).toBe(false);
    const bodies = JSON.parse(input.Message!) as Record<string, string>;
    expect(bodies.email).not.toContain('y'.repeat(200));
    expect(JSON.parse(bodies.https!).content.description).not.toContain('y'.repeat(200));
    // Whole in the audit JSON (the log and the audit store keep it).
    expect(bodies.default).toContain('y'.repeat(400));
    sns.restore();
  });
});
