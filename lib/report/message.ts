// Turns audit records into SNS messages: one per trigger and owner, a body per protocol. Pure.
import { countByOutcome, severityOf, worstOutcome, type AuditRecord } from '../domain/audit.js';
import type { MetadataOptions } from '../domain/policy.js';
import { chatbotNotification } from './chatbot.js';
import { emailText } from './email.js';
import { groupByTriggerAndOwner } from './group.js';
import { messageBytes, snsMessage, type SnsMessage } from './sns-message.js';

/** The `schema` of the JSON body owners' tooling (and notify-slack) reads. */
export const MESSAGE_SCHEMA = 'imds-guard.message/v1' as const;

export interface OwnerMessage extends SnsMessage {
  owner: string;
  records: AuditRecord[];
}

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

function resourceLine(r: AuditRecord): string {
  const where = [r.resource.cluster && `cluster ${r.resource.cluster}`, r.resource.nodegroup && `node group ${r.resource.nodegroup}`]
    .filter(Boolean)
    .join(', ');
  const change = r.after
    ? `${formatOptions(r.before)} -> ${formatOptions(r.after)}`
    : r.desired
      ? `${formatOptions(r.before)} (desired: ${formatOptions(r.desired)})`
      : r.before
        ? `(${formatOptions(r.before)})`
        : '';
  const why = r.error ? `error ${r.error.name}: ${r.error.message}` : (r.reason ?? '');
  return [`${r.outcome.toUpperCase()} ${r.resource.type} ${r.resource.id}`, where && `(${where})`, change, why && `- ${why}`]
    .filter(Boolean)
    .join(' ');
}

function emailBody(records: AuditRecord[], owner: string): string {
  const t = records[0]!.trigger;
  return emailText({
    heading: `imds-guard ${records[0]!.mode === 'dry-run' ? '(dry run) ' : ''}report for ${owner}`,
    fields: [
      ['Trigger', `${t.eventName} (${t.eventId}) at ${t.eventTime}`],
      ['Actor', `${t.actor}${t.sourceIp ? ` from ${t.sourceIp}` : ''}`],
      ['Account', `${t.account}  Region: ${t.region}`],
      ['Outcome', summaryLine(records)],
    ],
    labelWidth: 9,
    lines: [...records.map(resourceLine), ...records.flatMap((r) => (r.notes ?? []).map((n) => `  note (${r.resource.id}): ${n}`))],
    footer: [
      'Policy: HttpTokens=required (IMDSv2) and HttpPutResponseHopLimit at most the configured maximum.',
      'To undo a change: imds-guard revert --audit <file.jsonl> (the "before" options are in the JSON record).',
    ],
  });
}

/** The chat notification for one owner's records of one trigger. */
function chatbotBody(records: AuditRecord[], owner: string) {
  const t = records[0]!.trigger;
  const outcome = worstOutcome(records);
  const dry = records[0]!.mode === 'dry-run';
  return chatbotNotification({
    id: `${t.eventId}:${owner}`,
    title: `${outcome === 'failed' ? ':x:' : ':shield:'} imds-guard${dry ? ' (dry run)' : ''}: ${summaryLine(records)}`,
    description: [
      `*${t.eventName}* by \`${t.actor}\` at ${t.eventTime} in ${t.account}/${t.region}`,
      ...records.slice(0, 10).map((r) => `• ${resourceLine(r)}`),
      records.length > 10 ? `…and ${records.length - 10} more` : '',
    ],
    nextSteps: [
      ...(outcome === 'failed' ? ['Check the failed resources and the imds-guard logs'] : []),
      ...(records.some((r) => r.outcome === 'would-remediate') ? ['Run imds-guard enforce to apply'] : []),
      'Revert a change with imds-guard revert --audit <file.jsonl>',
    ],
    keywords: [outcome, owner, ...new Set(records.map((r) => r.resource.cluster).filter((c): c is string => !!c))],
    threadId: `imds-guard-${t.eventId}`,
    summary: `imds-guard ${outcome}: ${summaryLine(records)}`,
    additionalContext: { owner, eventId: t.eventId, account: t.account, region: t.region },
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

function fit(records: AuditRecord[]): OwnerMessage[] {
  const m = renderOwnerMessage(records);
  if (messageBytes(m) <= MAX_MESSAGE_BYTES) return [m];
  if (records.length > 1) {
    const half = Math.ceil(records.length / 2);
    return [...fit(records.slice(0, half)), ...fit(records.slice(half))];
  }
  // One record too large even alone: owners still hear about it, from a shortened copy.
  let short = m;
  for (const limit of SHORTEN) {
    short = { ...renderOwnerMessage([shorten(records[0]!, limit)]), records };
    if (messageBytes(short) <= MAX_MESSAGE_BYTES) break;
  }
  // Still too large cannot happen with bounded ids and ARNs; if it did, Publish fails loudly rather than drop it.
  return [short];
}

/** The messages for these records: per trigger and owner, each within MAX_MESSAGE_BYTES. None is dropped. */
export function renderOwnerMessages(records: AuditRecord[]): OwnerMessage[] {
  return messageGroups(records).flatMap((group) => {
    const parts = fit(group);
    return parts.length === 1 ? parts : parts.map((m, i) => numbered(m, i + 1));
  });
}

/** The parts of a split group get their own chat id, so they don't look like one notification sent twice. */
function numbered(m: OwnerMessage, part: number): OwnerMessage {
  const bodies = JSON.parse(m.message) as Record<string, string>;
  const chat = JSON.parse(bodies.https!) as { id: string };
  return { ...m, message: JSON.stringify({ ...bodies, https: JSON.stringify({ ...chat, id: `${chat.id}:${part}` }) }) };
}

export function renderOwnerMessage(records: AuditRecord[]): OwnerMessage {
  const first = records[0]!;
  const owner = first.resource.owner;
  const outcome = worstOutcome(records);
  const audit = JSON.stringify({ schema: MESSAGE_SCHEMA, owner, trigger: first.trigger, counts: countByOutcome(records), records });
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
  const bodies = { audit, email: emailBody(records, owner), chatbot: chatbotBody(records, owner) };
  return { owner, records, ...snsMessage(subject, bodies, attributes) };
}
