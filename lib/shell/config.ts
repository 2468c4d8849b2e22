// zod/mini: the same validation as classic zod, tree-shakable (classic zod adds ~440 KB to every bundle).
import * as z from 'zod/mini';
import { OutcomeSchema, OUTCOME_ORDER, QUIET_OUTCOMES } from '../domain/audit.js';
import { formatIssues } from '../domain/issues.js';

// Config is read once, at cold start. A bad value fails fast with the variable's name,
// instead of surfacing later as a wrong remediation.
const csv = z.pipe(
  z.string(),
  z.transform((s) =>
    s
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ),
);
const bool = z.pipe(
  z.enum(['true', 'false', '1', '0']),
  z.transform((v) => v === 'true' || v === '1'),
);
const int = (min: number, max: number) => z.coerce.number().check(z.int(), z.gte(min), z.lte(max));

const ConfigSchema = z.object({
  MODE: z._default(z.enum(['enforce', 'dry-run']), 'enforce'),
  SCOPE: z._default(z.enum(['eks', 'all']), 'eks'),
  MAX_HOP_LIMIT: z._default(int(1, 64), 1),
  EXEMPT_TAG_KEY: z._default(z.string().check(z.minLength(1)), 'imds-guard:exempt'),
  EXEMPT_TAG_VALUE: z._default(z.string().check(z.minLength(1)), 'true'),
  EXEMPT_CLUSTERS: z._default(csv, []),
  // Role names imds-guard runs as: events they cause are ignored (loop guard).
  SELF_ROLE_NAMES: z._default(csv, []),
  TOPIC_ARN: z.optional(z.string().check(z.regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w.-]+$/, 'must be an SNS topic ARN'))),
  // Default: every outcome an owner must hear about (all but compliant and out-of-scope).
  PUBLISH_OUTCOMES: z._default(
    z.pipe(csv, z.array(OutcomeSchema)),
    OUTCOME_ORDER.filter((o) => !QUIET_OUTCOMES.includes(o)),
  ),
  OWNER_TAG_KEYS: z._default(csv, ['owner', 'Owner', 'team']),
  // Whose owner tag routes a node's alert: its node group's (default: a node's own tags can be set by whoever runs on it) or its own.
  OWNER_SOURCE: z._default(z.enum(['nodegroup-first', 'instance-first']), 'nodegroup-first'),
  DEFAULT_OWNER: z._default(z.string().check(z.minLength(1)), 'unowned'),
  CONCURRENCY: z._default(int(1, 100), 10),
  MAX_ATTEMPTS: z._default(int(1, 20), 6),
  IDENTITY_GATE: z._default(z.enum(['warn', 'hold', 'off']), 'warn'),
  // Convergence (issue 13): instance changes go through this queue when it is set (the stack always sets it).
  REMEDIATION_QUEUE_URL: z.optional(z.string().check(z.regex(/^https?:\/\/[^\s/]+\/\d{12}\/[\w-]{1,80}$/, 'must be an SQS queue URL'))),
  // The queue's maxReceiveCount: the consumer's last receive records `failed` before the item goes to the DLQ.
  MAX_RECEIVES: z._default(int(1, 100), 8),
  // The event source mapping's MaximumConcurrency: each consumer takes this share of EC2's bucket.
  QUEUE_CONCURRENCY: z._default(int(1, 1000), 2),
  IDENTITY_CACHE_SECONDS: z._default(int(0, 3600), 300),
  ROLLOUT: z._default(bool, false),
  // DynamoDB table for idempotency records (duplicate EventBridge deliveries); unset = off (local, tests).
  IDEMPOTENCY_TABLE: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'))),
  // The audit store (issue 15): a DynamoDB table name or ARN that keeps every record; unset = off (CLI, local).
  AUDIT_TABLE: z.optional(
    z
      .string()
      .check(z.regex(/^(arn:aws[\w-]*:dynamodb:[\w-]+:\d{12}:table\/)?[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name or ARN')),
  ),
  // How long the audit store keeps a record (its TTL), in days.
  AUDIT_RETENTION_DAYS: z._default(int(1, 3650), 365),
  // Organization scale (issue 14): `hub` acts in the member account an event names, through MEMBER_ROLE_NAME.
  DEPLOYMENT: z._default(z.enum(['account', 'hub']), 'account'),
  ORGANIZATION_ID: z.optional(z.string().check(z.regex(/^o-[a-z0-9]{10,32}$/, 'must be an organization id (o-…)'))),
  MEMBER_ROLE_NAME: z._default(z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')), 'imds-guard-member'),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parse config from an env map; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as CloudFormation often renders optional parameters that way.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ConfigSchema.safeParse(cleaned);
  if (parsed.success) {
    if (parsed.data.DEPLOYMENT === 'hub' && !parsed.data.ORGANIZATION_ID) {
      throw new ConfigError('Invalid imds-guard configuration: ORGANIZATION_ID: required when DEPLOYMENT=hub');
    }
    return parsed.data;
  }
  throw new ConfigError(`Invalid imds-guard configuration: ${formatIssues(parsed.error.issues, '(env)').join('; ')}`);
}

/** The queue consumer needs its queue (to delay retries). */
export function requireQueue(config: Config): string {
  if (!config.REMEDIATION_QUEUE_URL) throw new ConfigError('Invalid imds-guard configuration: REMEDIATION_QUEUE_URL: required');
  return config.REMEDIATION_QUEUE_URL;
}

/** Handlers that publish need a topic. */
export function requireTopic(config: Config): string {
  if (!config.TOPIC_ARN) throw new ConfigError('Invalid imds-guard configuration: TOPIC_ARN: required');
  return config.TOPIC_ARN;
}
