// Audit records of one SNS message (one trigger, one owner) -> Slack Block Kit. Pure, never throws.
import { OUTCOME_ORDER, countByOutcome, firstRecord, worstOutcome, type AuditRecord, type Outcome } from '../../domain/audit.js';
import { formatOptions } from '../message.js';
import { countsLine } from '../summary.js';
import { partitionOf, REGION_NAME } from '../../domain/region.js';
import { revertCommands, type UndoContext } from '../undo.js';
import { clipTag, escapeSlackMrkdwn, neutralSlack, slackEntities, wellFormed } from '../escape.js';

/**
 * Slack rejects a whole message that breaks a limit, so every limit is enforced here.
 * totalChars is not documented: chat.postMessage answers msg_blocks_too_long from ~13k characters
 * of block text (slackapi/bolt-js#2509), so resource sections stay under a conservative budget.
 */
export const SLACK_LIMITS = {
  blocks: 50,
  headerChars: 150,
  sectionChars: 3000,
  textChars: 3000,
  contextElements: 10,
  totalChars: 12_000,
} as const;

type PlainText = { type: 'plain_text'; text: string; emoji?: boolean };
type Mrkdwn = { type: 'mrkdwn'; text: string };
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: Mrkdwn }
  | { type: 'context'; elements: Mrkdwn[] }
  | { type: 'divider' };
export interface SlackMessage {
  /** Fallback for notifications and clients that cannot show blocks. */
  text: string;
  blocks: SlackBlock[];
}

const EMOJI: Record<Outcome, string> = {
  failed: ':x:',
  reverted: ':rewind:',
  reported: ':warning:',
  'would-remediate': ':large_yellow_circle:',
  remediated: ':white_check_mark:',
  exempt: ':no_entry_sign:',
  gone: ':ghost:',
  compliant: ':heavy_check_mark:',
  'out-of-scope': ':white_circle:',
};

/** Slack parses &, < and > as control characters (links, mentions): escape anything we did not write. */
export const escapeSlack = slackEntities;

/**
 * Cut to at most max characters, ending with an ellipsis. Never leaves half an entity (&am…),
 * half a link (<https://…) or half a surrogate pair, any of which Slack would render as garbage.
 */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, Math.max(0, max - 1));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const amp = cut.lastIndexOf('&');
  if (amp > cut.lastIndexOf(';')) cut = cut.slice(0, amp);
  const lt = cut.lastIndexOf('<');
  if (lt > cut.lastIndexOf('>')) cut = cut.slice(0, lt);
  return `${cut}…`;
}

// Every string we did not write: folded, emphasis and links neutralised, entities (escape.ts).
const esc = (s: string, max = 200) => escapeSlackMrkdwn(clip(s, max));
// Backticks in user data would end the code span early.
const code = (s: string, max = 200) => `\`${esc(s.replace(/`/g, "'"), max)}\``;
const link = (url: string, label: string) => `<${url}|${esc(label.replace(/\|/g, '/'), 100)}>`;
const enc = (s: string) => encodeURIComponent(wellFormed(s));

const outcomesLine = (records: AuditRecord[]) => countsLine(countByOutcome(records), 'no records');

const consoleLinks = {
  instance: (region: string, id: string) =>
    `https://${region}.console.aws.amazon.com/ec2/home?region=${region}#InstanceDetails:instanceId=${enc(id)}`,
  launchTemplate: (region: string, id: string) =>
    `https://${region}.console.aws.amazon.com/ec2/home?region=${region}#LaunchTemplateDetails:launchTemplateId=${enc(id)}`,
  nodegroup: (region: string, cluster: string, ng: string) =>
    `https://${region}.console.aws.amazon.com/eks/home?region=${region}#/clusters/${enc(cluster)}/nodegroups/${enc(ng)}`,
};

// A Region goes into the host name of the link: anything odd gets no link rather than a wrong one, and
// so do other partitions (China, GovCloud, ISO, European Sovereign Cloud), whose consoles live elsewhere.
const okRegion = (r: string) => REGION_NAME.test(r) && partitionOf(r) === 'aws';

/** Slack shows <!date^…> in the reader's time zone; the fallback is the ISO time. */
function slackDate(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? esc(iso, 64) : `<!date^${Math.floor(t / 1000)}^{date_short_pretty} {time_secs}|${esc(iso, 64)}>`;
}

/** before → after; without an `after`, what the policy wanted and that it was not applied. */
function changeLine(r: AuditRecord): string {
  if (r.after) return `${code(formatOptions(r.before))} → ${code(formatOptions(r.after))}`;
  if (r.desired)
    return `${code(formatOptions(r.before))} → ${code(formatOptions(r.desired))} _(${r.mode === 'dry-run' ? 'dry run: ' : ''}not applied)_`;
  return r.before ? `${code(formatOptions(r.before))} (unchanged)` : '';
}

function resourceSection(r: AuditRecord): SlackBlock {
  const { type, id, region, cluster, nodegroup, name } = r.resource;
  const linked = !okRegion(region)
    ? code(id)
    : type === 'instance'
      ? link(consoleLinks.instance(region, id), id)
      : type === 'launch-template'
        ? link(consoleLinks.launchTemplate(region, id), id)
        : type === 'nodegroup' && cluster
          ? link(consoleLinks.nodegroup(region, cluster, nodegroup ?? id), id)
          : code(id);
  const ng =
    nodegroup && type !== 'nodegroup'
      ? cluster && okRegion(region)
        ? link(consoleLinks.nodegroup(region, cluster, nodegroup), nodegroup)
        : code(nodegroup)
      : '';
  const lines = [
    `${EMOJI[r.outcome]} *${r.outcome}* · ${type} ${linked}${name ? ` _${esc(name, 100)}_` : ''}`,
    [cluster && `cluster ${code(cluster, 100)}`, ng && `node group ${ng}`].filter(Boolean).join(' · '),
    changeLine(r),
    r.error
      ? `*Error* ${code(r.error.name, 100)}: ${esc(r.error.message, 500)}${r.requestId ? ` (request ${code(r.requestId, 80)})` : ''}`
      : '',
    r.reason ? `*Reason:* ${esc(r.reason, 500)}` : '',
    // before → after already says what was wrong; violations only when there is no change to show.
    r.violations.length && !(r.before || r.after || r.desired) ? `*Violations:* ${esc(r.violations.join('; '), 300)}` : '',
    ...(r.notes ?? []).slice(0, 3).map((n) => `_Note:_ ${esc(n, 300)}`),
  ];
  return { type: 'section', text: { type: 'mrkdwn', text: clip(lines.filter(Boolean).join('\n'), SLACK_LIMITS.sectionChars) } };
}

function revertHints(records: AuditRecord[], undo: UndoContext): Mrkdwn[] {
  const { trigger: t, mode } = firstRecord(records);
  // Commands are never clipped (a cut command does not run); the event line goes first so it always shows.
  const commands = revertCommands(records, undo);
  const hints = [
    mode === 'dry-run' ? ':test_tube: Dry run: nothing was changed. Set MODE=enforce to apply.' : '',
    `imds-guard · event ${code(t.eventId, 100)} · account ${esc(t.account, 20)}`,
    records.some((r) => r.outcome === 'reverted') ? ':rewind: IMDS options were reverted on request: check they are meant to be.' : '',
    ...commands.map((c) => `To undo: \`${escapeSlack(c)}\``),
  ];
  return hints
    .filter(Boolean)
    .filter((h) => h.length <= SLACK_LIMITS.sectionChars)
    .slice(0, SLACK_LIMITS.contextElements)
    .map((text) => ({ type: 'mrkdwn', text: clip(text, SLACK_LIMITS.sectionChars) }));
}

/** Render one SNS message's records. The owner defaults to the records' own. */
export function renderSlackMessage(
  records: AuditRecord[],
  owner = records[0]?.resource.owner ?? 'unowned',
  undo: UndoContext = {},
): SlackMessage {
  if (records.length === 0)
    return { text: 'imds-guard: no records', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'imds-guard: no records' } }] };
  const { trigger: t, mode } = firstRecord(records);
  const dry = mode === 'dry-run';
  const worst = worstOutcome(records);
  const title = `imds-guard${dry ? ' [DRY RUN]' : ''}: ${outcomesLine(records)} · ${neutralSlack(clipTag(owner, 100))}`;
  const summary = [
    `*${esc(t.eventName, 100)}* by ${code(t.actor, 300)}${t.sourceIp ? ` from ${code(t.sourceIp, 60)}` : ''}`,
    `*Event time:* ${slackDate(t.eventTime)} · *Account:* ${esc(t.account, 20)} · *Region:* ${esc(t.region, 30)}`,
    `*Owner:* ${esc(owner, 100)} · *Outcome:* ${outcomesLine(records)}${dry ? ' · :test_tube: *dry run*' : ''}`,
  ].join('\n');
  const head: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clip(`${EMOJI[worst]} ${escapeSlack(title)}`, SLACK_LIMITS.headerChars), emoji: true },
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(summary, SLACK_LIMITS.sectionChars) } },
    { type: 'divider' },
  ];
  const tail: SlackBlock[] = [{ type: 'divider' }, { type: 'context', elements: revertHints(records, undo) }];

  // Most urgent first, so truncation drops the least interesting resources.
  const ordered = [...records].sort((a, b) => OUTCOME_ORDER.indexOf(a.outcome) - OUTCOME_ORDER.indexOf(b.outcome));
  const room = SLACK_LIMITS.blocks - head.length - tail.length;
  const sections: SlackBlock[] = [];
  let chars = 0;
  for (const [i, r] of ordered.entries()) {
    const s = resourceSection(r);
    const len = s.type === 'section' ? s.text.text.length : 0;
    const mustLeaveRoom = i < ordered.length - 1; // the "…and N more" block needs one slot
    if (sections.length >= room - (mustLeaveRoom ? 1 : 0) || chars + len > SLACK_LIMITS.totalChars) break;
    sections.push(s);
    chars += len;
  }
  const hidden = ordered.slice(sections.length);
  if (hidden.length)
    sections.push({ type: 'section', text: { type: 'mrkdwn', text: `…and ${hidden.length} more resources (${outcomesLine(hidden)})` } });

  return { text: fallbackText(`${EMOJI[worst]} ${title}`, ordered), blocks: [...head, ...sections, ...tail] };
}

/** Notification text: the title, the trigger, then as many resource IDs as fit. */
function fallbackText(title: string, records: AuditRecord[]): string {
  const t = firstRecord(records).trigger;
  let text = clip(escapeSlack(`${title} — ${neutralSlack(`${t.eventName} by ${t.actor} at ${t.eventTime}`)}`), 1000);
  for (const [i, r] of records.entries()) {
    const more = `\n…and ${records.length - i} more resources (${outcomesLine(records.slice(i))})`;
    const line = `\n• ${r.outcome} ${r.resource.type} ${clip(escapeSlackMrkdwn(r.resource.id), 100)}`;
    if (text.length + line.length + more.length > SLACK_LIMITS.textChars) return text + more;
    text += line;
  }
  return text;
}
