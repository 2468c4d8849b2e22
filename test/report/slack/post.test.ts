import { afterEach, describe, expect, it } from 'vitest';
import { SlackPostError, postToSlack, retryAfterMs } from '../../../lib/report/slack/post.js';
import { webhookServer, type Reply } from './fixtures.js';

let servers: Awaited<ReturnType<typeof webhookServer>>[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function serve(reply?: Parameters<typeof webhookServer>[0]) {
  const s = await webhookServer(reply);
  servers.push(s);
  return s;
}
function sleeper() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

const SECRET_PATH = '/services/T0001/B0001/s3cr3tT0k3n';

describe('postToSlack', () => {
  it('POSTs the JSON payload to the webhook', async () => {
    const s = await serve();
    const res = await postToSlack(s.url(SECRET_PATH), { text: 'hi', blocks: [{ type: 'divider' }] }, { maxAttempts: 3 });
    expect(res).toEqual({ status: 200, attempts: 1 });
    expect(s.hits).toHaveLength(1);
    expect(s.hits[0]).toMatchObject({ path: SECRET_PATH, body: { text: 'hi', blocks: [{ type: 'divider' }] } });
    expect(s.hits[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('429 with Retry-After is retried after the delay Slack asked for', async () => {
    const s = await serve(
      (_, n): Reply => (n === 1 ? { status: 429, headers: { 'retry-after': '2' }, body: 'rate_limited' } : { status: 200, body: 'ok' }),
    );
    const { delays, sleep } = sleeper();
    const retries: unknown[] = [];
    const res = await postToSlack(s.url(SECRET_PATH), { text: 'x' }, { maxAttempts: 4, sleep, onRetry: (r) => retries.push(r) });
    expect(res.attempts).toBe(2);
    expect(s.hits).toHaveLength(2);
    expect(delays).toEqual([2000]);
    expect(retries).toEqual([{ attempt: 1, status: 429, delayMs: 2000, reason: 'HTTP 429: rate_limited' }]);
  });

  it('caps Retry-After; 5xx backs off exponentially with jitter', async () => {
    const s = await serve(
      (_, n): Reply => (n === 1 ? { status: 429, headers: { 'retry-after': '600' } } : n < 4 ? { status: 503 } : { status: 200 }),
    );
    const { delays, sleep } = sleeper();
    await postToSlack(s.url(SECRET_PATH), {}, { maxAttempts: 4, sleep, random: () => 0.5, baseDelayMs: 100 });
    expect(delays).toEqual([30_000, 100, 200]);
  });

  it('a 4xx other than 429 is final: one attempt, status in the error, no URL', async () => {
    const s = await serve(() => ({ status: 404, body: 'no_service' }));
    const { delays, sleep } = sleeper();
    const err = await postToSlack(s.url(SECRET_PATH), {}, { maxAttempts: 4, sleep }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackPostError);
    expect(err).toMatchObject({ status: 404, attempts: 1, retryable: false });
    expect((err as Error).message).toContain('HTTP 404: no_service');
    expect((err as Error).message).not.toContain(SECRET_PATH.slice(-10));
    expect(s.hits).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('gives up after maxAttempts with status and attempt count', async () => {
    const s = await serve(() => ({ status: 500, body: 'oops' }));
    const err = (await postToSlack(s.url(SECRET_PATH), {}, { maxAttempts: 3, sleep: sleeper().sleep }).catch(
      (e: unknown) => e,
    )) as SlackPostError;
    expect(err).toMatchObject({ status: 500, attempts: 3, retryable: true });
    expect(err.message).toBe('Slack webhook failed after 3 attempts: HTTP 500: oops');
    expect(s.hits).toHaveLength(3);
  });

  it('network errors are retried and the error never carries the URL', async () => {
    const s = await serve();
    const url = s.url(SECRET_PATH);
    await s.close();
    servers = [];
    const { delays, sleep } = sleeper();
    const err = (await postToSlack(url, {}, { maxAttempts: 2, sleep }).catch((e: unknown) => e)) as SlackPostError;
    expect(err).toMatchObject({ attempts: 2, retryable: true });
    expect(err.status).toBeUndefined();
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(SECRET_PATH);
    expect(err.cause).toBeUndefined();
    expect(delays).toHaveLength(1);
  });

  it('does not sleep past the deadline', async () => {
    const s = await serve(() => ({ status: 429, headers: { 'retry-after': '20' } }));
    const err = (await postToSlack(s.url(SECRET_PATH), {}, { maxAttempts: 4, sleep: sleeper().sleep, deadline: Date.now() + 5_000 }).catch(
      (e: unknown) => e,
    )) as SlackPostError;
    expect(err.message).toMatch(/no time left to retry/);
    expect(s.hits).toHaveLength(1);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
