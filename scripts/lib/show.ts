// Terminal rendering for the demo: plain tables and the messages owners would receive.
import type { CapturedMessage } from '../../sandbox/server.js';

export function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '  ' + r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

export function printMessages(messages: CapturedMessage[]): void {
  console.log(`\nMessages owners would receive (${messages.length}, one per trigger and owner; email body shown)`);
  for (const m of messages) {
    console.log(`\n  ┌ to owner=${m.attributes.owner}  outcome=${m.attributes.outcome}  severity=${m.attributes.severity}  cluster=${m.attributes.cluster}`);
    console.log(`  │ Subject: ${m.subject}`);
    for (const l of (m.bodies.email ?? m.message).split('\n')) console.log(`  │ ${l}`);
    console.log('  └');
  }
}
