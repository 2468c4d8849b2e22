// What notify-slack accepts from SNS: the `lambda` body of an imds-guard message. Pure, never throws.
// The record schema is the domain's (lib/domain/audit.ts); zod/mini: classic zod adds ~440 KB to the bundle.
import * as z from 'zod/mini';
import { AuditRecordSchema } from '../../domain/audit-schema.js';
import { formatIssues } from '../../domain/issues.js';
import { groupByTriggerAndOwner, type OwnerBatch } from '../group.js';
import { MESSAGE_SCHEMA } from '../message.js';

const nonEmpty = () => z.string().check(z.minLength(1));

const AuditMessageSchema = z.looseObject({
  schema: z.literal(MESSAGE_SCHEMA),
  owner: nonEmpty(),
  records: z.array(AuditRecordSchema).check(z.minLength(1)),
  /** The audit store the records are kept in, for the `revert --event` command (issue 15). */
  auditTable: z.optional(z.string()),
});

// Picked by shape rather than z.union, whose error would collapse to a bare "Invalid input".
const RecordArray = z.array(AuditRecordSchema).check(z.minLength(1));

export type Parsed = { kind: 'ok'; batches: OwnerBatch[]; auditTable?: string } | { kind: 'invalid'; message: string; issues: string[] };

/**
 * Parse one SNS Message. Accepts the message envelope, a bare AuditRecord array, and (if a publisher
 * forgot MessageStructure "json") the per-protocol wrapper, from which the `lambda` body is taken.
 * The owner is the `owner` message attribute when present, else the message's, else each record's.
 */
export function parseSnsMessage(message: string, ownerAttribute?: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    return { kind: 'invalid', message: 'SNS message is not JSON', issues: [`length ${message.length}`] };
  }
  const wrapped = raw as { lambda?: unknown; default?: unknown } | null;
  if (wrapped && typeof wrapped === 'object' && !Array.isArray(wrapped) && !('schema' in wrapped)) {
    const inner = typeof wrapped.lambda === 'string' ? wrapped.lambda : typeof wrapped.default === 'string' ? wrapped.default : undefined;
    if (inner !== undefined) return parseSnsMessage(inner, ownerAttribute);
  }
  const parsed = Array.isArray(raw) ? RecordArray.safeParse(raw) : AuditMessageSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      kind: 'invalid',
      message: 'not an imds-guard audit message',
      issues: formatIssues(parsed.error.issues, '(message)', 10),
    };
  }
  const envelopeOwner = Array.isArray(parsed.data) ? undefined : parsed.data.owner;
  const records = Array.isArray(parsed.data) ? parsed.data : parsed.data.records;
  const auditTable = Array.isArray(parsed.data) ? undefined : parsed.data.auditTable;
  const batches = groupByTriggerAndOwner(records, (r) => ownerAttribute || envelopeOwner || r.resource.owner);
  return { kind: 'ok', batches, ...(auditTable ? { auditTable } : {}) };
}
