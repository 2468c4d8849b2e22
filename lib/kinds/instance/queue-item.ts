// The remediation queue's message (`imds-guard.remediation/v1`): one instance, its options and the planned
// change. The event functions and the sweep write it; the consumer validates it and makes exactly one
// ModifyInstanceMetadataOptions call, with no Describe: everything its audit record needs travels here. Pure.
import * as z from 'zod/mini';
import { recordFor, type AuditFacts, type AuditRecord, type AuditResource } from '../../domain/audit.js';
import type { Trigger } from '../../domain/cloudtrail.js';
import { applyRemediation, type MetadataOptions, type Remediation } from '../../domain/policy.js';

const QUEUE_ITEM_SCHEMA = 'imds-guard.remediation/v1' as const;

const toggle = z.optional(z.enum(['enabled', 'disabled']));
const hop = z.number().check(z.int(), z.gte(1), z.lte(64));
const OptionsSchema = z.object({
  httpTokens: z.optional(z.enum(['optional', 'required'])),
  hopLimit: z.optional(hop),
  httpEndpoint: toggle,
  instanceMetadataTags: toggle,
  httpProtocolIpv6: toggle,
});
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

const QueueItemSchema = z.object({
  schema: z.literal(QUEUE_ITEM_SCHEMA),
  id: text(512),
  queuedAt: text(64),
  trigger: z.object({
    source: z.enum(['cloudtrail', 'backfill', 'cli', 'securityhub']),
    eventName: text(128),
    eventId: text(256),
    eventTime: text(64),
    actor: z.string().check(z.maxLength(2048)),
    sourceIp: z.optional(z.string().check(z.maxLength(256))),
    region: text(32),
    account: z.string().check(z.regex(/^\d{12}$/)),
  }),
  resource: z.object({
    type: z.literal('instance'),
    id: z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/)),
    arn: text(2048),
    region: text(32),
    account: z.string().check(z.regex(/^\d{12}$/)),
    cluster: z.optional(text(256)),
    nodegroup: z.optional(text(256)),
    owner: text(2048),
    name: z.optional(z.string().check(z.maxLength(2048))),
  }),
  before: OptionsSchema,
  desired: OptionsSchema,
  // Only a tightening can be queued: tokens required, and a hop limit only when it is lowered to the
  // policy's ceiling (checked again by the consumer against its own MAX_HOP_LIMIT).
  change: z.object({ httpTokens: z.literal('required'), hopLimit: z.optional(hop) }),
  violations: z.array(z.string().check(z.maxLength(1024))).check(z.maxLength(16)),
  notes: z.optional(z.array(z.string().check(z.maxLength(4096))).check(z.maxLength(32))),
  details: z.optional(z.record(z.string(), z.unknown())),
});

export type QueueItem = z.infer<typeof QueueItemSchema>;

export interface QueueItemInput {
  trigger: Trigger;
  resource: AuditResource;
  before: MetadataOptions;
  remediation: Remediation;
  maxHopLimit: number;
  violations: string[];
  notes?: string[];
  details?: Record<string, unknown>;
  now?: Date;
}

/**
 * The message for one instance. A hop limit above the policy's ceiling (the identity gate's `hold` keeps the
 * current one) is left out: the API then keeps the instance's value, and no queued change can raise it.
 *
 * @example
 * const item = toQueueItem({ trigger, resource, before: { httpTokens: 'optional', hopLimit: 2 },
 *   remediation: { httpTokens: 'required', hopLimit: 1 }, maxHopLimit: 1, violations: [] });
 * // item.change -> { httpTokens: 'required', hopLimit: 1 }
 */
export function toQueueItem(i: QueueItemInput): QueueItem {
  const lowers = i.remediation.hopLimit !== undefined && i.remediation.hopLimit <= i.maxHopLimit;
  const change: Remediation = { httpTokens: 'required', ...(lowers ? { hopLimit: i.remediation.hopLimit } : {}) };
  return {
    schema: QUEUE_ITEM_SCHEMA,
    id: `${i.trigger.eventId}:${i.resource.id}`,
    queuedAt: (i.now ?? new Date()).toISOString(),
    trigger: i.trigger,
    resource: i.resource as QueueItem['resource'],
    before: i.before,
    desired: applyRemediation(i.before, change),
    change,
    violations: i.violations,
    ...(i.notes?.length ? { notes: i.notes } : {}),
    ...(i.details ? { details: i.details } : {}),
  };
}

export type ParsedItem = { ok: true; item: QueueItem } | { ok: false; reason: string; issues: string[] };

/** Parse a queue message body; never throws. A change that would raise the hop limit is rejected. */
export function parseQueueItem(body: string, maxHopLimit: number): ParsedItem {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'not-json', issues: ['body is not JSON'] };
  }
  const parsed = QueueItemSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`);
    return { ok: false, reason: 'not-a-remediation-item', issues };
  }
  const hopLimit = parsed.data.change.hopLimit;
  if (hopLimit !== undefined && hopLimit > maxHopLimit) {
    return { ok: false, reason: 'loosening-change', issues: [`change.hopLimit: ${hopLimit} is above MAX_HOP_LIMIT ${maxHopLimit}`] };
  }
  return { ok: true, item: parsed.data };
}

/** The audit record a consumed item ends in. */
export function itemRecord(item: QueueItem, facts: Pick<AuditFacts, 'outcome' | 'after' | 'reason' | 'error' | 'requestId'>): AuditRecord {
  return recordFor(item.resource, {
    trigger: item.trigger,
    mode: 'enforce',
    before: item.before,
    desired: item.desired,
    violations: item.violations,
    ...(item.notes ? { notes: item.notes } : {}),
    details: { ...item.details, queuedAt: item.queuedAt },
    ...facts,
  });
}
