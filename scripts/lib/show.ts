// Terminal rendering for the demo: plain tables and the messages owners would receive.
import type { CapturedMessage } from '../../sandbox/server.js';
import { renderSlackMessage } from '../../lib/report/slack/blocks.js';
import { parseSnsMessage } from '../../lib/report/slack/input.js';
import { renderSlackPreview } from '../../lib/report/slack/preview.js';

export function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `  ${r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ')}`;
  console.log(line(head));
  console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
}

/** Each SNS message as its owner sees it: the Slack post (default) or the email body. */
export function printMessages(messages: CapturedMessage[], view: 'slack' | 'email' = 'slack'): void {
  console.log(
    `\nMessages owners would receive (${messages.length}, one per trigger and owner; ${view === 'slack' ? 'the Slack post notify-slack renders' : 'the email body'})`,
  );
  for (const m of messages) {
    console.log(
      `\n  ┌ SNS attributes: owner=${m.attributes.owner} outcome=${m.attributes.outcome} severity=${m.attributes.severity} cluster=${m.attributes.cluster}`,
    );
    let text = m.bodies.email ?? m.message;
    if (view === 'slack') {
      const parsed = parseSnsMessage(m.bodies.lambda ?? m.message, m.attributes.owner);
      if (parsed.kind === 'ok') text = parsed.batches.map((b) => renderSlackPreview(renderSlackMessage(b.records, b.owner))).join('\n');
    }
    for (const l of text.split('\n')) console.log(`  │ ${l}`);
    console.log('  └');
  }
}
