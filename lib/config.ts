import { z } from 'zod';

// Config is read once, at cold start. A bad value fails fast with the variable's name,
// instead of surfacing later as a wrong remediation.
const csv = z
  .string()
  .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean));

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const ConfigSchema = z.object({
  MODE: z.enum(['enforce', 'dry-run']).default('enforce'),
  SCOPE: z.enum(['eks', 'all']).default('eks'),
  MAX_HOP_LIMIT: z.coerce.number().int().min(1).max(64).default(1),
  EXEMPT_TAG_KEY: z.string().min(1).default('imds-guard:exempt'),
  EXEMPT_TAG_VALUE: z.string().min(1).default('true'),
  EXEMPT_CLUSTERS: csv.default([]),
  // Role names imds-guard runs as: events they cause are ignored (loop guard).
  SELF_ROLE_NAMES: csv.default([]),
  TOPIC_ARN: z.string().regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w.-]+$/, 'must be an SNS topic ARN').optional(),
  PUBLISH_OUTCOMES: csv
    .pipe(z.array(z.enum(['remediated', 'would-remediate', 'compliant', 'exempt', 'out-of-scope', 'gone', 'failed', 'reported'])))
    .default(['remediated', 'would-remediate', 'exempt', 'gone', 'failed', 'reported']),
  OWNER_TAG_KEYS: csv.default(['owner', 'Owner', 'team']),
  DEFAULT_OWNER: z.string().min(1).default('unowned'),
  CONCURRENCY: z.coerce.number().int().min(1).max(100).default(10),
  MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  IDENTITY_GATE: z.enum(['warn', 'hold', 'off']).default('warn'),
  ROLLOUT: bool.default(false),
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
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new ConfigError(`Invalid imds-guard configuration: ${problems.join('; ')}`);
}

/** Handlers that publish need a topic. */
export function requireTopic(config: Config): string {
  if (!config.TOPIC_ARN) throw new ConfigError('Invalid imds-guard configuration: TOPIC_ARN: required');
  return config.TOPIC_ARN;
}
