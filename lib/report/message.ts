// Turns audit records into SNS messages: one per trigger and owner, a body per protocol. Pure.
import { countByOutcome, severityOf, worstOutcome, type AuditRecord } from '../domain/audit.js';
import type { MetadataOptions } from '../domain/policy.js';

export interface OwnerMessage {
  subject: string;
  /** JSON with one body per protocol, for Publish with MessageStructure "json". */
  message: string;
  attributes: Record<string, string>;
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

/** SNS allows longer String attributes, but filter policies only need a short value. */
const MAX_ATTRIBUTE_CHARS = 256;

export function formatOptions(o: MetadataOptions | undefined): string {
  if (!o) return 'unknown';
  if (o.httpEndpoint === 'disabled') return 'IMDS disabled';
  return `tokens=${o.httpTokens ?? '?'} hop=${o.hopLimit ?? '?'}`;
}

export function groupByTriggerAndOwner(records: AuditRecord[]): AuditRecord[][] {
  const groups = new Map<string, AuditRecord[]>();
  for (const r of records) {
    const key = `${r.trigger.eventId}\u0000${r.resource.owner}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].flatMap((g) => {
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
  const lines = [
    `imds-guard ${records[0]!.mode === 'dry-run' ? '(dry run) ' : ''}report for ${owner}`,
    '',
    `Trigger: ${t.eventName} (${t.eventId}) at ${t.eventTime}`,
    `Actor:   ${t.actor}${t.sourceIp ? ` from ${t.sourceIp}` : ''}`,
    `Account: ${t.account}  Region: ${t.region}`,
    `Outcome: ${summaryLine(records)}`,
    '',
    ...records.map(resourceLine),
    ...records.flatMap((r) => (r.notes ?? []).map((n) => `  note (${r.resource.id}): ${n}`)),
    '',
    'Policy: HttpTokens=required (IMDSv2) and HttpPutResponseHopLimit at most the configured maximum.',
    'To undo a change: imds-guard revert --audit <file.jsonl> (the "before" options are in the JSON record).',
  ];
  return lines.join('\n');
}

/** Amazon Q Developer in chat applications custom format (REFERENCE §7). Anything else is dropped. */
export function chatbotBody(records: AuditRecord[], owner: string) {
  const t = records[0]!.trigger;
  const outcome = worstOutcome(records);
  const dry = records[0]!.mode === 'dry-run';
  return {
    version: '1.0' as const,
    source: 'custom' as const,
    id: `${t.eventId}:${owner}`,
    content: {
      textType: 'client-markdown' as const,
      title: `${outcome === 'failed' ? ':x:' : ':shield:'} imds-guard${dry ? ' (dry run)' : ''}: ${summaryLine(records)}`,
      description: [
        `*${t.eventName}* by \`${t.actor}\` at ${t.eventTime} in ${t.account}/${t.region}`,
        ...records.slice(0, 10).map((r) => `• ${resourceLine(r)}`),
        records.length > 10 ? `…and ${records.length - 10} more` : '',
      ]
        .filter(Boolean)
        .join('\n'),
      nextSteps: [
        ...(outcome === 'failed' ? ['Check the failed resources and the imds-guard logs'] : []),
        ...(records.some((r) => r.outcome === 'would-remediate') ? ['Run imds-guard enforce to apply'] : []),
        'Revert a change with imds-guard revert --audit <file.jsonl>',
      ],
      keywords: [outcome, owner, ...new Set(records.map((r) => r.resource.cluster).filter((c): c is string => !!c))],
    },
    metadata: {
      threadId: `imds-guard-${t.eventId}`,
      summary: `imds-guard ${outcome}: ${summaryLine(records)}`,
      additionalContext: { owner, eventId: t.eventId, account: t.account, region: t.region },
    },
  };
}

/** UTF-8 bytes SNS counts for one Publish: the message, subject and attributes (name, type, value). */
export function messageBytes(m: Pick<OwnerMessage, 'subject' | 'message' | 'attributes'>): number {
  let n = Buffer.byteLength(m.message, 'utf8') + Buffer.byteLength(m.subject, 'utf8');
  for (const [k, v] of Object.entries(m.attributes)) n += Buffer.byteLength(k, 'utf8') + 'String'.length + Buffer.byteLength(v, 'utf8');
  return n;
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
  return groupByTriggerAndOwner(records).flatMap((group) => {
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
  const audit = JSON.stringify({
    schema: 'imds-guard.message/v1',
    owner,
    trigger: first.trigger,
    counts: countByOutcome(records),
    records,
  });
  const subject = `imds-guard ${outcome}: ${first.trigger.eventName} ${summaryLine(records)}`.replace(/[^\x20-\x7e]/g, '').slice(0, 99);
  return {
    owner,
    records,
    subject,
    message: JSON.stringify({
      default: audit,
      sqs: audit,
      lambda: audit,
      email: emailBody(records, owner),
      https: JSON.stringify(chatbotBody(records, owner)),
    }),
    attributes: capAttributes({
      outcome,
      severity: severityOf(outcome),
      owner,
      cluster: uniq(records.map((r) => r.resource.cluster)),
      account: first.trigger.account,
      region: first.trigger.region,
      resourceType: uniq(records.map((r) => r.resource.type)),
      eventName: first.trigger.eventName,
    }),
  };
}

// Capped here, not only at Publish, so messageBytes measures what is sent.
function capAttributes(a: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.slice(0, MAX_ATTRIBUTE_CHARS) || 'none']));
}
