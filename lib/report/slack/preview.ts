// Block Kit -> readable terminal text, for the demo. Pure.
import type { SlackBlock, SlackMessage } from './blocks.js';

const EMOJI: Record<string, string> = {
  x: '✖',
  warning: '⚠',
  large_yellow_circle: '●',
  white_check_mark: '✔',
  heavy_check_mark: '✔',
  no_entry_sign: '⊘',
  ghost: '∅',
  white_circle: '○',
  test_tube: '⚗',
};

const WIDTH = 72;

export interface PreviewOptions {
  /** Console URLs are long: by default a link shows as "label ↗". */
  showUrls?: boolean;
}

/** Slack mrkdwn -> plain text: links become "label ↗" (or "label (url)"), dates their fallback, entities decoded. */
function mrkdwnToText(s: string, opts: PreviewOptions = {}): string {
  return s
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<([^|>]+)\|([^>]*)>/g, opts.showUrls ? '$2 ($1)' : '$2 ↗')
    .replace(/<([^>]+)>/g, '$1')
    .replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m)
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1$2')
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:])/g, '$1$2')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((l) => by + l)
    .join('\n');

export function renderSlackPreview(input: SlackBlock[] | SlackMessage, opts: PreviewOptions = {}): string {
  const blocks = Array.isArray(input) ? input : input.blocks;
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.type) {
      case 'header': {
        const text = mrkdwnToText(b.text.text, opts);
        out.push(text, '═'.repeat(Math.min(WIDTH, Math.max(text.length, 8))));
        break;
      }
      case 'section':
        out.push(indent(mrkdwnToText(b.text.text, opts)), '');
        break;
      case 'context':
        out.push(...b.elements.map((e) => indent(mrkdwnToText(e.text, opts), '  › ')));
        break;
      case 'divider':
        out.push('─'.repeat(WIDTH));
        break;
    }
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd();
}
