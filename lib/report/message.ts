// Turns audit records into SNS messages: one per trigger and owner, a body per protocol. Pure.
import { countByOutcome, firstRecord, severityOf, worstOutcome, type AuditRecord } from '../domain/audit.js';
import type { MetadataOptions } from '../domain/policy.js';
import { chatbotNotification } from './chatbot.js';
import { emailText } from './email.js';
import { clipTag, escapeChatbot, escapeEmail, wellFormed } from './escape.js';
import { foldedSummary } from './folded.js';
import { groupByTriggerAndOwner } from './group.js';
import { messageBytes, snsMessage, type OwnerMessage } from './sns-message.js';
import { revertCommands, undoLines, type UndoContext } from './undo.js';

/** The `schema` of the JSON body owners' tooling (and notify-slack) reads. */
export const MESSAGE_SCHEMA = 'imds-guard.message/v1' as const;

/** For readable emails and chat posts; the size limit is enforced separately by MAX_MESSAGE_BYTES. */
export const MAX_RECORDS_PER_MESSAGE = 40;

/**
 * SNS rejects a Publish over 262,144 bytes, counting the body and every attribute's name, type and
 * value. The audit JSON is repeated per protocol, so records with long error messages reach that well
 * before MAX_RECORDS_PER_MESSAGE. Headroom for what the SDK adds.
 */
export const MAX_MESSAGE_BYTES = 250_000;

export function formatOptions(o: MetadataOptions | undefined): string {
  if (!o) return 'unknown';
  if (o.httpEndpoint === 'disabled') return 'IMDS disabled';
  return `tokens=${o.httpTokens ?? '?'} hop=${o.hopLimit ?? '?'}`;
}

/** The records of each message: per trigger and owner, at most MAX_RECORDS_PER_MESSAGE each. */
export function messageGroups(records: AuditRecord[]): AuditRecord[][] {
  return groupByTriggerAndOwner(records).flatMap(({ records: g }) => {
    const chunks: AuditRecord[][] = [];
    for (let i = 0; i < g.length; i += MAX_RECORDS_PER_MESSAGE) chunks.push(g.slice(i, i + MAX_RECORDS_PER_MESSAGE));
    return chunks;
  });
}

function uniq(values: (string | undefined)[]): string {
  return [...new Set(values.filter((v): v is string => !!v))].join(',') || 'none';
}

function summaryLine(records: AuditRecord[]): string {
  const counts = countByOutcome(records);
  return Object.entries(counts)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ');
}

type Escape = (s: string) => string;

/** One resource, every tag-derived string (cluster, node group, name, reason) clipped and escaped for the format. */
function resourceLine(r: AuditRecord, e: Escape): string {
  const tag = (s: string) => e(clipTag(s));
  const where = [
    r.resource.cluster && `cluster ${tag(r.resource.cluster)}`,
    r.resource.nodegroup && `node group ${tag(r.resource.nodegroup)}`,
  ]
    .filter(Boolean)
    .join(', ');
  const change = r.after
    ? `${formatOptions(r.before)} -> ${formatOptions(r.after)}`
    : r.desired
      ? `${formatOptions(r.before)} (desired: ${formatOptions(r.desired)})`
      : r.before
        ? `(${formatOptions(r.before)})`
        : '';
  const why = r.error ? `error ${e(r.error.name)}: ${e(r.error.message)}` : e(r.reason ?? '');
  const name = r.resource.name ? ` "${tag(r.resource.name)}"` : '';
  return [`${r.outcome.toUpperCase()} ${r.resource.type} ${e(r.resource.id)}${name}`, where && `(${where})`, change, why && `- ${why}`]
    .filter(Boolean)
    .join(' ');
}

function emailBody(records: AuditRecord[], owner: string, undo: UndoContext): string {
  const { trigger: t, mode } = firstRecord(records);
  const e = escapeEmail;
  return emailText({
    heading: `imds-guard ${mode === 'dry-run' ? '(dry run) ' : ''}report for ${e(clipTag(owner))}`,
    fields: [
      ['Trigger', `${e(t.eventName)} (${e(t.eventId)}) at ${e(t.eventTime)}`],
      ['Actor', `${e(t.actor)}${t.sourceIp ? ` from ${e(t.sourceIp)}` : ''}`],
      ['Account', `${e(t.account)}  Region: ${e(t.region)}`],
      ['Outcome', summaryLine(records)],
    ],
    labelWidth: 9,
    lines: [
      ...records.map((r) => resourceLine(r, e)),
      ...records.flatMap((r) => (r.notes ?? []).map((n) => `  note (${e(r.resource.id)}): ${e(n)}`)),
    ],
    footer: [
      'Policy: HttpTokens=required (IMDSv2) and HttpPutResponseHopLimit at most the configured maximum.',
      ...undoLines(records, undo),
    ],
  });
}

/** The chat notification for one owner's records of one trigger; every tag-derived string escaped for client-markdown. */
function chatbotBody(records: AuditRecord[], owner: string, undo: UndoContext) {
  const { trigger: t, mode } = firstRecord(records);
  const outcome = worstOutcome(records);
  const dry = mode === 'dry-run';
  const e = escapeChatbot;
  const who = e(clipTag(owner));
  return chatbotNotification({
    id: `${t.eventId}:${wellFormed(clipTag(owner))}`,
    title: `${outcome === 'failed' ? ':x:' : ':shield:'} imds-guard${dry ? ' (dry run)' : ''}: ${summaryLine(records)}`,
    description: [
      `*${e(t.eventName)}* by \`${e(t.actor)}\` at ${e(t.eventTime)} in ${e(t.account)}/${e(t.region)}`,
      ...records.slice(0, 10).map((r) => `• ${resourceLine(r, e)}`),
      records.length > 10 ? `…and ${records.length - 10} more` : '',
    ],
    nextSteps: [
      ...(outcome === 'failed' ? ['Check the failed resources and the imds-guard logs'] : []),
      ...(records.some((r) => r.outcome === 'reverted') ? ['IMDS options were reverted on request: check they are meant to be'] : []),
      ...(records.some((r) => r.outcome === 'would-remediate') ? ['Run imds-guard enforce to apply'] : []),
      ...revertCommands(records, undo).map((c) => `Undo: ${c}`),
    ],
    keywords: [
      outcome,
      who,
      ...new Set(
        records
          .map((r) => r.resource.cluster)
          .filter((c): c is string => !!c)
          .map((c) => e(clipTag(c))),
      ),
    ],
    threadId: `imds-guard-${t.eventId}`,
    summary: `imds-guard ${outcome}: ${summaryLine(records)}`,
    additionalContext: { owner: who, eventId: t.eventId, account: t.account, region: t.region },
  });
}

/** Free-text limits for a record too large to send whole, mildest first. */
const SHORTEN = [
  { text: 2_000, details: 16_000, items: 50 },
  { text: 200, details: 0, items: 10 },
];

/** A copy with long free text cut and bulky details dropped; ids, ARNs and options are kept as they are. */
function shorten(r: AuditRecord, limit: (typeof SHORTEN)[number]): AuditRecord {
  const cut = (s: string) => (s.length > limit.text ? `${s.slice(0, limit.text)}… [truncated]` : s);
  const { details, notes, reason, error, ...rest } = r;
  return {
    ...rest,
    violations: r.violations.slice(0, limit.items).map(cut),
    ...(reason !== undefined ? { reason: cut(reason) } : {}),
    ...(error ? { error: { name: cut(error.name), message: cut(error.message) } } : {}),
    ...(notes ? { notes: notes.slice(0, limit.items).map(cut) } : {}),
    ...(details && JSON.stringify(details).length <= limit.details ? { details } : {}),
    truncated: true,
  };
}

function fit(records: AuditRecord[], undo: UndoContext): OwnerMessage[] {
  const m = renderOwnerMessage(records, undo);
  if (messageBytes(m) <= MAX_MESSAGE_BYTES) return [m];
  if (records.length > 1) {
    const half = Math.ceil(records.length / 2);
    return [...fit(records.slice(0, half), undo), ...fit(records.slice(half), undo)];
  }
  // One record too large even alone: owners still hear about it, from a shortened copy.
  let short = m;
  for (const limit of SHORTEN) {
    short = { ...renderOwnerMessage([shorten(firstRecord(records), limit)], undo), records };
    if (messageBytes(short) <= MAX_MESSAGE_BYTES) break;
  }
  // Still too large cannot happen with bounded ids and ARNs; if it did, Publish fails loudly rather than drop it.
  return [short];
}

/** Owner messages per trigger at most; beyond it one summary message (every record is still logged). */
export const MAX_MESSAGES_PER_EVENT = 20;

/**
 * The messages for these records: per trigger and owner, each within MAX_MESSAGE_BYTES, at most
 * MAX_MESSAGES_PER_EVENT per trigger and then one summary naming how many records and owners were folded.
 *
 * @example
 * renderOwnerMessages(tenThousandRecordsOf300Owners).length // 21: 20 owner messages and one summary
 * renderOwnerMessages(records, { auditTable: 'imds-guard-prod-audit' }); // undo commands read the audit store
 */
export function renderOwnerMessages(records: AuditRecord[], undo: UndoContext = {}): OwnerMessage[] {
  const all = messageGroups(records).flatMap((group) => {
    const parts = fit(group, undo);
    return parts.length === 1 ? parts : parts.map((m, i) => numbered(m, i + 1));
  });
  const byEvent = new Map<string, OwnerMessage[]>();
  for (const m of all) {
    const { eventId } = firstRecord(m.records).trigger;
    byEvent.set(eventId, [...(byEvent.get(eventId) ?? []), m]);
  }
  return [...byEvent.values()].flatMap((ms) =>
    ms.length <= MAX_MESSAGES_PER_EVENT
      ? ms
      : [...ms.slice(0, MAX_MESSAGES_PER_EVENT), foldedSummary(ms.slice(MAX_MESSAGES_PER_EVENT), MAX_MESSAGES_PER_EVENT)],
  );
}

/** The parts of a split group get their own chat id, so they don't look like one notification sent twice. */
function numbered(m: OwnerMessage, part: number): OwnerMessage {
  const bodies = JSON.parse(m.message) as Record<string, string>;
  const https = bodies.https;
  if (https === undefined) throw new Error('invariant: every owner message carries an https (chat) body');
  const chat = JSON.parse(https) as { id: string };
  return { ...m, message: JSON.stringify({ ...bodies, https: JSON.stringify({ ...chat, id: `${chat.id}:${part}` }) }) };
}

export function renderOwnerMessage(records: AuditRecord[], undo: UndoContext = {}): OwnerMessage {
  const first = firstRecord(records);
  const owner = first.resource.owner;
  const outcome = worstOutcome(records);
  // auditTable: notify-slack prints the same revert commands (revert --event … --audit-table …).
  const table = undo.auditTable ? { auditTable: undo.auditTable } : {};
  const audit = JSON.stringify({
    schema: MESSAGE_SCHEMA,
    owner,
    trigger: first.trigger,
    counts: countByOutcome(records),
    records,
    ...table,
  });
  const attributes = {
    outcome,
    severity: severityOf(outcome),
    owner,
    cluster: uniq(records.map((r) => r.resource.cluster)),
    account: first.trigger.account,
    region: first.trigger.region,
    resourceType: uniq(records.map((r) => r.resource.type)),
    eventName: first.trigger.eventName,
  };
  const subject = `imds-guard ${outcome}: ${first.trigger.eventName} ${summaryLine(records)}`;
  const bodies = { audit, email: emailBody(records, owner, undo), chatbot: chatbotBody(records, owner, undo) };
  return { owner, records, ...snsMessage(subject, bodies, attributes) };
}
