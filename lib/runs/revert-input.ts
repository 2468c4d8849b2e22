// What `revert --audit` reads: JSON Lines of audit records (`--out`), and the SNS message imds-guard publishes,
// however it was saved: the message body (`imds-guard.message/v1`), the per-protocol JSON of the Publish, the SNS
// notification an SQS queue or HTTPS endpoint receives (`Message` holds the body), or the Lambda event
// (`Records[].Sns.Message`). Pretty-printed JSON is read as one document; otherwise each line is one of these.
import { AUDIT_SCHEMA, type AuditRecord } from '../domain/audit.js';

export class RevertInputError extends Error {
  override name = 'RevertInputError';
}

const MESSAGE_SCHEMA = 'imds-guard.message/v1';

function isRecord(v: unknown): v is AuditRecord {
  const r = v as Partial<AuditRecord> | null;
  return (
    r?.schema === AUDIT_SCHEMA &&
    !!r.resource &&
    typeof r.resource.id === 'string' &&
    typeof r.resource.region === 'string' &&
    typeof r.outcome === 'string'
  );
}

/** The records a JSON value carries, or undefined when it is none of the shapes above. */
function recordsOf(v: unknown, depth = 0): AuditRecord[] | undefined {
  if (depth > 4 || v === null || typeof v !== 'object') {
    if (typeof v === 'string' && depth <= 4 && /^\s*[[{]/.test(v)) {
      try {
        return recordsOf(JSON.parse(v), depth + 1);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  if (isRecord(v)) return [v];
  if (Array.isArray(v)) {
    const parts = v.map((x) => recordsOf(x, depth + 1));
    return parts.every((p) => p !== undefined) ? parts.flat() : undefined;
  }
  const o = v as Record<string, unknown>;
  if (o.schema === MESSAGE_SCHEMA) {
    const records = Array.isArray(o.records) ? o.records : [];
    const bad = records.findIndex((r) => !isRecord(r));
    if (bad >= 0) throw new RevertInputError(`message record ${bad + 1}: not an ${AUDIT_SCHEMA} record`);
    return records as AuditRecord[];
  }
  // SNS notification (Message), Lambda event (Records[].Sns), or the Publish's per-protocol bodies.
  if (typeof o.Message === 'string') return recordsOf(o.Message, depth + 1);
  if (Array.isArray(o.Records))
    return recordsOf(
      o.Records.map((r) => (r as { Sns?: unknown })?.Sns),
      depth + 1,
    );
  for (const k of ['default', 'sqs', 'lambda']) if (typeof o[k] === 'string') return recordsOf(o[k], depth + 1);
  return undefined;
}

/**
 * The audit records in a `--out` file or a saved SNS message. Blank lines are ignored; anything else is an error.
 *
 * @example
 * parseAuditInput(readFileSync('message.json', 'utf8')).length; // the records the owner message reported
 */
export function parseAuditInput(text: string): AuditRecord[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  try {
    const whole = recordsOf(JSON.parse(trimmed));
    if (whole) return whole;
  } catch (err) {
    if (err instanceof RevertInputError) throw err;
    // Not one JSON document: JSON Lines.
  }
  const records: AuditRecord[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new RevertInputError(`line ${i + 1}: not JSON`);
    }
    const found = recordsOf(v);
    if (!found) throw new RevertInputError(`line ${i + 1}: not an ${AUDIT_SCHEMA} record or imds-guard SNS message`);
    records.push(...found);
  });
  return records;
}
