// notify-slack configuration, read once at cold start. Values are *references* to secrets, never URLs.
// zod/mini, like lib/shell/config.ts: classic zod adds ~440 KB to the bundle.
import * as z from 'zod/mini';
import { ConfigError } from '../../shell/config.js';
import { formatIssues } from '../../domain/issues.js';

/** Where a webhook URL is stored. `ref` is what the operator wrote: safe to log, unlike the URL. */
export interface WebhookRef {
  kind: 'secret' | 'ssm';
  name: string;
  ref: string;
}

export interface SlackConfig {
  defaultWebhook?: WebhookRef;
  ownerWebhooks: Record<string, WebhookRef>;
  cacheSeconds: number;
  maxAttempts: number;
}

/** `secretsmanager:<name|arn>`, `ssm:<name|arn>`, or a bare Secrets Manager / SSM parameter ARN. */
export function parseWebhookRef(raw: string): WebhookRef | undefined {
  const ref = raw.trim();
  const prefixed = /^(?<kind>secretsmanager|ssm):(?<name>.+)$/.exec(ref)?.groups;
  if (prefixed?.name) return { kind: prefixed.kind === 'ssm' ? 'ssm' : 'secret', name: prefixed.name.trim(), ref };
  if (/^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+$/.test(ref)) return { kind: 'secret', name: ref, ref };
  if (/^arn:aws[\w-]*:ssm:[\w-]+:\d{12}:parameter\/.+$/.test(ref)) return { kind: 'ssm', name: ref, ref };
  return undefined;
}

// The messages never echo the value: a URL pasted here by mistake must not reach the logs.
const Ref = z.pipe(
  z.string(),
  z.transform((s: string, ctx) => {
    const r = parseWebhookRef(s);
    if (r) return r;
    ctx.issues.push({
      code: 'custom',
      input: undefined,
      message: /^https?:\/\//i.test(s.trim())
        ? 'must reference a secret or SSM parameter that holds the webhook URL, not the URL itself'
        : 'must be secretsmanager:<name>, ssm:<name>, or a Secrets Manager secret / SSM parameter ARN',
    });
    return z.NEVER;
  }),
);

const Json = z.pipe(
  z.string(),
  z.transform((s: string, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.issues.push({
        code: 'custom',
        input: undefined,
        message: 'must be a JSON object mapping owner to a parameter reference, e.g. {"payments":"ssm:/imds-guard/slack/payments"}',
      });
      return z.NEVER;
    }
  }),
);

const int = (min: number, max: number) => z.coerce.number().check(z.int(), z.gte(min), z.lte(max));

const SlackConfigSchema = z
  .object({
    SLACK_WEBHOOK_PARAMETER: z.optional(Ref),
    SLACK_OWNER_WEBHOOKS: z.optional(z.pipe(Json, z.record(z.string().check(z.minLength(1)), Ref))),
    SLACK_CACHE_SECONDS: z._default(int(0, 86_400), 300),
    SLACK_MAX_ATTEMPTS: z._default(int(1, 10), 4),
  })
  .check(
    z.refine((c) => !!c.SLACK_WEBHOOK_PARAMETER || Object.keys(c.SLACK_OWNER_WEBHOOKS ?? {}).length > 0, {
      path: ['SLACK_WEBHOOK_PARAMETER'],
      message: 'required unless SLACK_OWNER_WEBHOOKS names at least one owner',
    }),
  );

/** Parse from an env map; throws a ConfigError naming each bad variable (and owner key). */
export function loadSlackConfig(env: Record<string, string | undefined> = process.env): SlackConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('SLACK_') && v !== undefined && v !== ''));
  const parsed = SlackConfigSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(`Invalid imds-guard Slack configuration: ${formatIssues(parsed.error.issues, '(env)').join('; ')}`);
  }
  const c = parsed.data;
  return {
    ...(c.SLACK_WEBHOOK_PARAMETER ? { defaultWebhook: c.SLACK_WEBHOOK_PARAMETER } : {}),
    ownerWebhooks: c.SLACK_OWNER_WEBHOOKS ?? {},
    cacheSeconds: c.SLACK_CACHE_SECONDS,
    maxAttempts: c.SLACK_MAX_ATTEMPTS,
  };
}
