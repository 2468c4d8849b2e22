// Webhook URLs: resolved per owner from Secrets Manager / SSM (cached by Powertools), never logged.
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { SlackConfig, WebhookRef } from './config.js';

/** A webhook URL is a bearer credential: anyone holding it can post to the channel. */
const known = new Set<string>();
const SLACK_HOOK = /https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s"'<>|)\]]*/gi;
const REDACTED = '[redacted webhook URL]';

/** Remove every resolved URL, and anything shaped like a Slack hook, from a message. */
export function redact(text: string): string {
  let out = text;
  for (const url of [...known].sort((a, b) => b.length - a.length)) out = out.split(url).join(REDACTED);
  return out.replace(SLACK_HOOK, REDACTED);
}

/** Errors carry the parameter *name* and a redacted message; no `cause`, which could hold the URL. */
class WebhookError extends Error {
  override name = 'WebhookError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(redact(message));
  }
}

export function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { name?: string; code?: string } } | undefined;
  const name = e?.cause?.name && e.name === 'GetParameterError' ? e.cause.name : (e?.name ?? 'Error');
  return redact(`${name}: ${String(e?.message ?? err)}${e?.cause?.code ? ` (${e.cause.code})` : ''}`);
}

/** The owner's own webhook, else the default. Own-property lookup: owners come from tags ("constructor"). */
export function webhookFor(owner: string, config: SlackConfig): { ref: WebhookRef; source: 'owner' | 'default' } | undefined {
  const own = Object.hasOwn(config.ownerWebhooks, owner) ? config.ownerWebhooks[owner] : undefined;
  if (own) return { ref: own, source: 'owner' };
  return config.defaultWebhook ? { ref: config.defaultWebhook, source: 'default' } : undefined;
}

// http is accepted only on loopback, for the local sandbox and tests.
function isWebhookUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
  } catch {
    return false;
  }
}

/** A secret may hold the URL itself or JSON {"url": …} / {"webhookUrl": …}. */
function extractUrl(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value : value instanceof Uint8Array ? new TextDecoder().decode(value) : undefined;
  let candidate = text?.trim();
  if (candidate?.startsWith('{')) {
    try {
      const j = JSON.parse(candidate) as { url?: unknown; webhookUrl?: unknown };
      candidate = typeof j.url === 'string' ? j.url.trim() : typeof j.webhookUrl === 'string' ? j.webhookUrl.trim() : undefined;
    } catch {
      // JSON.parse messages quote the input: never let one escape.
      return undefined;
    }
  }
  return candidate && isWebhookUrl(candidate) ? candidate : undefined;
}

/** Read and validate the URL behind a reference; Powertools caches it for maxAge seconds. */
export async function readWebhookUrl(ref: WebhookRef, maxAge: number): Promise<string> {
  let value: unknown;
  try {
    value = ref.kind === 'secret' ? await getSecret(ref.name, { maxAge }) : await getParameter(ref.name, { decrypt: true, maxAge });
  } catch (err) {
    throw new WebhookError(ref.ref, `could not read webhook parameter ${ref.ref}: ${describeError(err)}`);
  }
  const url = extractUrl(value);
  if (!url)
    throw new WebhookError(ref.ref, `webhook parameter ${ref.ref} does not hold an https URL (or JSON {"url": …} / {"webhookUrl": …})`);
  known.add(url);
  return url;
}
