// The audit record's zod schema: the one definition of the record, with its types inferred from it. Only
// the consumers that validate records at run time (notify-slack) import this module; the others import the
// types, so the schema's construction stays out of their bundles. zod/mini: classic zod adds ~440 KB.
import * as z from 'zod/mini';
import { AUDIT_SCHEMA, OutcomeSchema, SEVERITIES } from './audit-vocabulary.js';

const nonEmpty = () => z.string().check(z.minLength(1));

/** What caused a decision. Shared by event handlers and backfill runs, and carried by every audit record. */
const TriggerSchema = z.object({
  source: z.enum(['cloudtrail', 'backfill', 'cli', 'securityhub']),
  eventName: z.string(),
  /** Record ids are derived from it (see recordId in audit.ts). */
  eventId: nonEmpty(),
  eventTime: z.string(),
  actor: z.string(),
  sourceIp: z.optional(z.string()),
  region: z.string(),
  account: z.string(),
});
export type Trigger = z.infer<typeof TriggerSchema>;

const HttpTokensSchema = z.enum(['optional', 'required']);
const ToggleSchema = z.enum(['enabled', 'disabled']);
export type HttpTokens = z.infer<typeof HttpTokensSchema>;
export type Toggle = z.infer<typeof ToggleSchema>;

/** MetadataOptions as imds-guard sees them (and audit records carry them). Any field may be unknown (missing from an event). */
const MetadataOptionsSchema = z.object({
  httpTokens: z.optional(HttpTokensSchema),
  hopLimit: z.optional(z.number()),
  httpEndpoint: z.optional(ToggleSchema),
  instanceMetadataTags: z.optional(ToggleSchema),
  httpProtocolIpv6: z.optional(ToggleSchema),
});
export type MetadataOptions = z.infer<typeof MetadataOptionsSchema>;

const SeveritySchema = z.enum(SEVERITIES);

/**
 * A resource kind's name, as its folder under lib/kinds and its registry entry spell it (kebab-case). Open on
 * purpose: a new kind brings its own type without editing the versioned schema; consumers that do not know a
 * type render it generically.
 */
const ResourceTypeSchema = z.string().check(z.regex(/^[a-z][a-z0-9-]{0,39}$/));
export type ResourceType = z.infer<typeof ResourceTypeSchema>;

const AuditResourceSchema = z.object({
  type: ResourceTypeSchema,
  id: nonEmpty(),
  arn: z.string(),
  region: z.string(),
  account: z.string(),
  cluster: z.optional(z.string()),
  nodegroup: z.optional(z.string()),
  owner: nonEmpty(),
  name: z.optional(z.string()),
});
export type AuditResource = z.infer<typeof AuditResourceSchema>;

/** Unknown fields are dropped on parse, not rejected: newer producers may add some. */
export const AuditRecordSchema = z.object({
  schema: z.literal(AUDIT_SCHEMA),
  /** Unique per record of a trigger and deterministic (see recordId), so consumers can dedupe retries on it. */
  id: z.string(),
  time: z.string(),
  mode: z.enum(['enforce', 'dry-run']),
  trigger: TriggerSchema,
  resource: AuditResourceSchema,
  before: z.optional(MetadataOptionsSchema),
  after: z.optional(MetadataOptionsSchema),
  desired: z.optional(MetadataOptionsSchema),
  outcome: OutcomeSchema,
  severity: SeveritySchema,
  violations: z._default(z.array(z.string()), []),
  reason: z.optional(z.string()),
  error: z.optional(z.object({ name: z.string(), message: z.string() })),
  requestId: z.optional(z.string()),
  /** Extra facts for the owner: identity readiness, rollout commands, created template versions. */
  details: z.optional(z.record(z.string(), z.unknown())),
  notes: z.optional(z.array(z.string())),
  /** Set only on a copy shortened to fit one SNS message; the audit log line holds the full record. */
  truncated: z.optional(z.literal(true)),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;
