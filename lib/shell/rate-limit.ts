// Client-side EC2 token buckets per (account, Region, API class), matched to REFERENCE §2, applied as SDK
// middleware that waits for a token before every attempt (retries included). The SDK's adaptive
// retry stays on as the second line: it only engages if a throttle gets through anyway.
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-ec2';
import type { FinalizeRequestMiddleware, Pluggable } from '@smithy/types';

// The bucket table and classification are shared with the sandbox, which plays EC2's side.
import { classifyEc2, EC2_BUCKETS, type BucketClass, type BucketSpec } from '../domain/ec2-limits.js';

import { TokenBucket } from './token-bucket.js';

export { classifyEc2, EC2_BUCKETS, TokenBucket, type BucketClass, type BucketSpec };

/** A plugin for an EC2 client's middleware stack (the limiter's, and the retry marking in clients.ts). */
export type Ec2Plugin = Pluggable<ServiceInputTypes, ServiceOutputTypes>;

export interface RateLimiterOptions {
  /** Multiplies every refill rate (the sandbox benchmark runs AWS's buckets faster). Default 1. */
  timeScale?: number;
  /**
   * Jitter to absorb, in ms (default 200). Requests we space out can reach AWS bunched together
   * (network jitter, a stalled event loop), so the burst is reduced by the tokens the bucket refills
   * in that time (at least one: 1 of 100 for ModifyInstanceMetadataOptions at AWS's rate) and AWS's
   * bucket stays that far ahead of ours. Costs that much time once per bucket, where a slower refill
   * would cost throughput for the whole run.
   */
  jitterMs?: number;
  /**
   * Calls beyond the first burst wait until the first response for their bucket (see TokenBucket);
   * default true. `anchorTimeoutMs` (default 2000) bounds that wait if the first call hangs.
   */
  waitForFirstResponse?: boolean;
  anchorTimeoutMs?: number;
  /** Override bucket specs (before timeScale). */
  buckets?: Partial<Record<BucketClass, BucketSpec>>;
  /** false: count calls but never wait. */
  enabled?: boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RateLimiterStats {
  /** Attempts that passed the limiter, by `region|class`. */
  acquired: Record<string, number>;
  /** Throttling responses seen after the limiter, by `region|action`. */
  throttled: Record<string, number>;
  /** Total time attempts spent waiting for a token. */
  waitedMs: number;
}

/**
 * The key of an account and Region's buckets: `<account>/<region>` for a member account, the Region alone for the
 * caller's own. The plugin keys calls by it; code that asks the limiter about a unit must use the same key.
 * @example
 * limiterScope('eu-west-1', '444455556666'); // '444455556666/eu-west-1'
 */
export const limiterScope = (region: string, account?: string): string => (account ? `${account}/${region}` : region);

const THROTTLE_NAMES = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException']);

function isThrottle(err: unknown): boolean {
  return !!err && typeof err === 'object' && THROTTLE_NAMES.has((err as { name?: string }).name ?? '');
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly plugins = new Map<string, Ec2Plugin>();
  private readonly counters: RateLimiterStats = { acquired: {}, throttled: {}, waitedMs: 0 };
  readonly timeScale: number;
  private readonly jitterMs: number;
  private readonly waitForFirstResponse: boolean;
  private readonly anchorTimeoutMs: number;
  private readonly enabled: boolean;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: RateLimiterOptions = {}) {
    this.timeScale = opts.timeScale ?? 1;
    this.jitterMs = opts.jitterMs ?? 200;
    this.waitForFirstResponse = opts.waitForFirstResponse ?? true;
    this.anchorTimeoutMs = opts.anchorTimeoutMs ?? 2000;
    this.enabled = opts.enabled ?? true;
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? defaultSleep;
    if (!(this.timeScale > 0)) throw new RangeError('timeScale must be > 0');
    if (!(this.jitterMs >= 0)) throw new RangeError('jitterMs must be >= 0');
  }

  /** The effective spec: refill times timeScale; burst minus the jitter headroom (at least 1 token, at most half). */
  spec(cls: BucketClass): BucketSpec {
    const base = this.opts.buckets?.[cls] ?? EC2_BUCKETS[cls];
    const refillPerSecond = base.refillPerSecond * this.timeScale;
    const headroom = Math.min(
      Math.max(this.jitterMs > 0 ? 1 : 0, Math.ceil((refillPerSecond * this.jitterMs) / 1000)),
      Math.floor(base.capacity / 2),
    );
    return { capacity: Math.max(1, base.capacity - headroom), refillPerSecond };
  }

  bucket(region: string, cls: BucketClass): TokenBucket {
    const key = `${region}|${cls}`;
    let b = this.buckets.get(key);
    if (!b) {
      const s = this.spec(cls);
      b = new TokenBucket(s.capacity, s.refillPerSecond, this.now, { startOnAnchor: this.waitForFirstResponse });
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Wait for one token of `action`'s bucket in `region`. Resolves with the time waited. */
  async acquire(region: string, action: string, input: Record<string, unknown> = {}): Promise<number> {
    const cls = classifyEc2(action, input);
    const key = `${region}|${cls}`;
    this.counters.acquired[key] = (this.counters.acquired[key] ?? 0) + 1;
    if (!this.enabled) return 0;
    const b = this.bucket(region, cls);
    let waited = 0;
    if (!b.isAnchored && b.available() < 1) {
      // Past the burst before the first response: wait for it (bounded), then pace from there.
      const t0 = this.now();
      const timer = setTimeout(() => b.anchor(), this.anchorTimeoutMs);
      timer.unref?.();
      await b.whenAnchored();
      clearTimeout(timer);
      waited = this.now() - t0;
    }
    const wait = b.reserve();
    if (wait > 0) await this.sleep(wait);
    this.counters.waitedMs += waited + wait;
    return waited + wait;
  }

  /** A response (any: success or error) came back for this bucket: start its refill clock. */
  onResponse(region: string, action: string, input: Record<string, unknown> = {}): void {
    if (this.enabled) this.bucket(region, classifyEc2(action, input)).anchor();
  }

  onThrottle(region: string, action: string, input: Record<string, unknown> = {}): void {
    const key = `${region}|${action}`;
    this.counters.throttled[key] = (this.counters.throttled[key] ?? 0) + 1;
    if (this.enabled) this.bucket(region, classifyEc2(action, input)).drain();
  }

  /**
   * `n` calls of `action` are about to be made in `region` (a unit's planned changes): spread them over the
   * time the bucket needs for them anyway (TokenBucket.expect), instead of spending its burst at once.
   * @example
   * limiter.expect('444455556666/eu-west-1', 'ModifyInstanceMetadataOptions', 200); // 200 calls over ~20 s
   */
  expect(region: string, action: string, n: number, input: Record<string, unknown> = {}): void {
    if (this.enabled) this.bucket(region, classifyEc2(action, input)).expect(n);
  }

  /** How long `n` calls of `action` would take from now (for deadline planning). */
  estimateMs(region: string, action: string, n: number, input: Record<string, unknown> = { Filters: [{}] }): number {
    if (!this.enabled) return 0;
    return this.bucket(region, classifyEc2(action, input)).msFor(n);
  }

  stats(): RateLimiterStats {
    return structuredClone(this.counters);
  }

  /**
   * SDK plugin for one Region's EC2 client. The middleware sits inside the retry middleware and
   * before signing, so every attempt waits for its token and is signed only when it is sent.
   * One plugin object per Region, so a client cache keyed by plugin identity can reuse clients.
   */
  plugin(region: string, account?: string): Ec2Plugin {
    // Buckets are per account and Region (EC2's are): a member account's calls key as `<account>/<region>`.
    const scope = limiterScope(region, account);
    let p = this.plugins.get(scope);
    if (p) return p;
    const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => async (args) => {
      const action = String(context?.commandName ?? '').replace(/Command$/, '');
      const input = (args?.input ?? {}) as Record<string, unknown>;
      await this.acquire(scope, action, input);
      try {
        const out = await next(args);
        this.onResponse(scope, action, input);
        return out;
      } catch (err) {
        this.onResponse(scope, action, input);
        if (isThrottle(err)) this.onThrottle(scope, action, input);
        throw err;
      }
    };
    p = {
      applyToStack(stack) {
        stack.addRelativeTo(middleware, {
          relation: 'before',
          toMiddleware: 'httpSigningMiddleware',
          name: 'imdsGuardRateLimit',
          override: true,
        });
      },
    };
    this.plugins.set(scope, p);
    return p;
  }
}
