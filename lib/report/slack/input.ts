// What notify-slack accepts from SNS: the `lambda` body of an imds-guard message. Pure, never throws.
// zod/mini, like lib/core: classic zod adds ~440 KB to the bundle.
import * as z from 'zod/mini';
import type { AuditRecord } from '../../domain/audit.js';

const Toggle = z.optional(z.enum(['enabled', 'disabled']));
const Options = z.looseObject({
  httpTokens: z.optional(z.enum(['optional', 'required'])),
  hopLimit: z.optional(z.number()),
  httpEndpoint: Toggle,
  instanceMetadataTags: Toggle,
  httpProtocolIpv6: Toggle,
});
const nonEmpty = () => z.string().check(z.minLength(1));
const opt = () => z.optional(z.string());

const Trigger = z.looseObject({
  source: z.enum(['cloudtrail', 'backfill', 'cli']),
  eventName: z.string(),
  eventId: nonEmpty(),
  eventTime: z.string(),
  actor: z.string(),
  sourceIp: opt(),
  region: z.string(),
  account: z.string(),
});

// Strict on what the renderer reads, lenient on the rest: newer producers may add fields.
export const AuditRecordSchema = z.looseObject({
  schema: z.literal('imds-guard.audit/v1'),
  id: z.string(),
  time: z.string(),
  mode: z.enum(['enforce', 'dry-run']),
  trigger: Trigger,
  resource: z.looseObject({
    type: z.enum(['instance', 'launch-template', 'nodegroup', 'account-defaults']),
    id: nonEmpty(),
    arn: z.string(),
    region: z.string(),
    account: z.string(),
    cluster: opt(),
    nodegroup: opt(),
    owner: nonEmpty(),
    name: opt(),
  }),
  before: z.optional(Options),
  after: z.optional(Options),
  desired: z.optional(Options),
  outcome: z.enum(['remediated', 'would-remediate', 'compliant', 'exempt', 'out-of-scope', 'gone', 'failed', 'reported']),
  severity: z.enum(['info', 'low', 'medium', 'high']),
  violations: z._default(z.array(z.string()), []),
  reason: opt(),
  error: z.optional(z.looseObject({ name: z.string(), message: z.string() })),
  requestId: opt(),
  details: z.optional(z.record(z.string(), z.unknown())),
  notes: z.optional(z.array(z.string())),
});

export const AuditMessageSchema = z.looseObject({
  schema: z.literal('imds-guard.message/v1'),
  owner: nonEmpty(),
  records: z.array(AuditRecordSchema).check(z.minLength(1)),
});

// Picked by shape rather than z.union, whose error would collapse to a bare "Invalid input".
const RecordArray = z.array(AuditRecordSchema).check(z.minLength(1));

export interface OwnerBatch {
  owner: string;
  records: AuditRecord[];
}

export type Parsed = { kind: 'ok'; batches: OwnerBatch[] } | { kind: 'invalid'; message: string; issues: string[] };

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
      issues: parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`),
    };
  }
  const envelopeOwner = Array.isArray(parsed.data) ? undefined : parsed.data.owner;
  const records = (Array.isArray(parsed.data) ? parsed.data : parsed.data.records) as AuditRecord[];
  return { kind: 'ok', batches: groupByOwnerAndTrigger(records, (r) => ownerAttribute || envelopeOwner || r.resource.owner) };
}

/** One Slack message per (owner, trigger), as the SNS messages are cut. */
export function groupByOwnerAndTrigger(
  records: AuditRecord[],
  ownerOf: (r: AuditRecord) => string = (r) => r.resource.owner,
): OwnerBatch[] {
  const groups = new Map<string, OwnerBatch>();
  for (const r of records) {
    const owner = ownerOf(r);
    const key = `${owner}\u0000${r.trigger.eventId}`;
    const g = groups.get(key) ?? groups.set(key, { owner, records: [] }).get(key)!;
    g.records.push(r);
  }
  return [...groups.values()];
}
