// POST a payload to a Slack incoming webhook, retrying what Slack says is transient.
import { describeError, redact } from './webhooks.js';

export interface PostOptions {
  maxAttempts: number;
  /** Injected so tests do not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Called before each retry: the caller logs it (this module has no logger, and never sees a name). */
  onRetry?: (info: { attempt: number; status?: number; delayMs: number; reason: string }) => void;
  timeoutMs?: number;
  /** Retry-After above this is capped, so one throttled owner cannot eat the whole invocation. */
  maxRetryAfterMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  /** Epoch ms: give up rather than sleep past it (the Lambda's remaining time). */
  deadline?: number;
  now?: () => number;
}

/** Final failure. Carries the status and the attempt count; never the URL. */
export class SlackPostError extends Error {
  override name = 'SlackPostError';
  constructor(
    message: string,
    readonly attempts: number,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(redact(message));
  }
}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retry-After is seconds (Slack) or an HTTP date (RFC 9110). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export async function postToSlack(url: string, payload: unknown, opts: PostOptions): Promise<{ status: number; attempts: number }> {
  const {
    maxAttempts,
    sleep = sleepReal,
    timeoutMs = 10_000,
    maxRetryAfterMs = 30_000,
    baseDelayMs = 500,
    maxDelayMs = 8_000,
    random = Math.random,
    now = Date.now,
  } = opts;
  const body = JSON.stringify(payload);
  for (let attempt = 1; ; attempt++) {
    let status: number | undefined;
    let reason: string;
    let wait: number | undefined;
    try {
      // redirect manual: a webhook that redirects is misconfigured; do not send the payload elsewhere.
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      const text = (await res.text().catch(() => '')).slice(0, 200);
      if (res.ok) return { status, attempts: attempt };
      reason = `HTTP ${status}${text ? `: ${text}` : ''}`;
      if (status !== 429 && status < 500)
        throw new SlackPostError(`Slack webhook answered ${reason} (attempt ${attempt}, not retried)`, attempt, status);
      wait = retryAfterMs(res.headers.get('retry-after'), now());
    } catch (err) {
      if (err instanceof SlackPostError) throw err;
      reason = describeError(err); // network error or timeout: retryable
    }
    if (attempt >= maxAttempts)
      throw new SlackPostError(`Slack webhook failed after ${attempt} attempts: ${reason}`, attempt, status, true);
    // Full jitter spreads retries from concurrent invocations; Retry-After wins when Slack sends it.
    const delayMs =
      wait !== undefined ? Math.min(wait, maxRetryAfterMs) : Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
    if (opts.deadline !== undefined && now() + delayMs > opts.deadline) {
      throw new SlackPostError(`Slack webhook failed after ${attempt} attempts: ${reason} (no time left to retry)`, attempt, status, true);
    }
    opts.onRetry?.({ attempt, ...(status !== undefined ? { status } : {}), delayMs, reason });
    await sleep(delayMs);
  }
}
