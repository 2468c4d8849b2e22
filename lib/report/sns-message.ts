// What every imds-guard SNS message shares: a printable subject, one body per protocol, capped
// attributes, and the byte count SNS checks. Pure (owner messages and run summaries both use it).
import type { AuditRecord } from '../domain/audit.js';
import { wellFormed } from './escape.js';

/** SNS allows longer String attributes, but filter policies only need a short value. */
const MAX_ATTRIBUTE_CHARS = 256;

/** A rendered SNS message, ready for Publish with MessageStructure "json". */
export interface SnsMessage {
  subject: string;
  /** JSON with one body per protocol. */
  message: string;
  attributes: Record<string, string>;
}

/** An SNS message for one owner, with the audit records it reports. */
export interface OwnerMessage extends SnsMessage {
  owner: string;
  records: AuditRecord[];
}

export interface SnsBodies {
  /** The JSON audit body, for the default, SQS and Lambda protocols. */
  audit: string;
  email: string;
  /** The chat notification object, serialized for the https protocol (Q Developer). */
  chatbot: unknown;
}

/**
 * Subject, bodies and attributes as SNS accepts them: the subject printable ASCII under 100 characters,
 * each attribute value 1 to 256 characters ('none' when empty). Capped here, not at Publish, so
 * messageBytes measures what is sent.
 *
 * @example
 * snsMessage('imds-guard ✓ ok', { audit: '{}', email: 'hi', chatbot: {} }, { owner: '' }).attributes; // => { owner: 'none' }
 */
export function snsMessage(subject: string, bodies: SnsBodies, attributes: Record<string, string>): SnsMessage {
  const { audit, email, chatbot } = bodies;
  return {
    subject: subject.replace(/[^\x20-\x7e]/g, '').slice(0, 99),
    message: wellFormed(JSON.stringify({ default: audit, sqs: audit, lambda: audit, email, https: JSON.stringify(chatbot) })),
    // Well-formed UTF-16 (a lone surrogate makes the SDK throw URIError), cut without splitting a pair.
    attributes: Object.fromEntries(
      Object.entries(attributes).map(([k, v]) => [
        k,
        wellFormed(v.slice(0, MAX_ATTRIBUTE_CHARS).replace(/[\ud800-\udbff]$/, '')) || 'none',
      ]),
    ),
  };
}

/**
 * UTF-8 bytes SNS counts for one Publish: the message, subject and attributes (name, type, value).
 *
 * @example
 * messageBytes({ subject: 's', message: 'm', attributes: { k: 'v' } }); // => 1 + 1 + 1 + 6 + 1
 */
export function messageBytes(m: SnsMessage): number {
  let n = Buffer.byteLength(m.message, 'utf8') + Buffer.byteLength(m.subject, 'utf8');
  for (const [k, v] of Object.entries(m.attributes)) n += Buffer.byteLength(k, 'utf8') + 'String'.length + Buffer.byteLength(v, 'utf8');
  return n;
}
