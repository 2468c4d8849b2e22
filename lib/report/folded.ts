// The one message for what the per-event cap folded (issue 17): counts only. Pure.
import { countByOutcome, firstRecord, severityOf, worstOutcome } from '../domain/audit.js';
import { chatbotNotification } from './chatbot.js';
import { emailText } from './email.js';
import { snsMessage, type OwnerMessage } from './sns-message.js';

const countsText = (c: Record<string, number | undefined>) =>
  Object.entries(c)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ');

/** The one message for what the cap folded: counts only, for email and queues (notify-slack skips `summary`). */
/**
 * For email and queues (notify-slack's subscription skips resourceType `summary`); every record is in the log.
 *
 * @example
 * foldedSummary(messagesBeyondTheCap).subject // 'imds-guard: 9200 more records for 280 owners were folded (cap 20 messages per event)'
 */
export function foldedSummary(folded: OwnerMessage[], cap: number): OwnerMessage {
  const records = folded.flatMap((m) => m.records);
  const t = firstRecord(records).trigger;
  const owners = new Set(folded.map((m) => m.owner)).size;
  const line = `${records.length} more records for ${owners} owners were folded (cap ${cap} messages per event)`;
  const audit = JSON.stringify({
    schema: 'imds-guard.folded/v1',
    trigger: t,
    folded: { records: records.length, owners },
    counts: countByOutcome(records),
  });
  const email = emailText({
    heading: `imds-guard: ${line}`,
    fields: [['Trigger', `${t.eventName} (${t.eventId})`]],
    labelWidth: 9,
    lines: [countsText(countByOutcome(records))],
    footer: ['Every record is in the imds-guard log.'],
  });
  const chatbot = chatbotNotification({
    id: `${t.eventId}:folded`,
    title: `imds-guard: ${line}`,
    description: [countsText(countByOutcome(records))],
    nextSteps: ['See the imds-guard log for every record'],
    keywords: ['folded'],
    threadId: `imds-guard-${t.eventId}`,
    summary: line,
    additionalContext: { eventId: t.eventId },
  });
  const attributes = {
    outcome: worstOutcome(records),
    severity: severityOf(worstOutcome(records)),
    owner: 'none',
    account: t.account,
    region: t.region,
    resourceType: 'summary',
    eventName: t.eventName,
  };
  return { owner: 'none', records, ...snsMessage(`imds-guard: ${line}`, { audit, email, chatbot }, attributes) };
}
