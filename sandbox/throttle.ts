// EC2 request throttling: token buckets per (account, Region, API), sized from the sandbox's own table
// (ec2-buckets.ts, which cites AWS's documentation; never from lib/). Only EC2 actions are throttled.

import { SANDBOX_EC2_BUCKETS as BUCKETS, sandboxBucketClass, type SandboxBucketClass as BucketClass } from './ec2-buckets.js';

export interface ThrottleOptions {
  /** Default true. */
  enabled?: boolean;
  /** Multiplies every refill rate (20 → a 5,000-instance backfill takes ~50 s instead of ~1,000 s). */
  timeScale?: number;
  /** Bucket capacity override: one number for all classes, or per class. */
  capacity?: number | Partial<Record<BucketClass, number>>;
  /** Refill-per-second override per class (before timeScale). */
  refill?: Partial<Record<BucketClass, number>>;
}

/** Which bucket class an EC2 action falls in; `input` decides filtered/paginated. */
const classify = sandboxBucketClass;

function bucketParams(cls: BucketClass, opts: ThrottleOptions = {}): { capacity: number; refill: number } {
  const base = BUCKETS[cls];
  const cap = typeof opts.capacity === 'number' ? opts.capacity : (opts.capacity?.[cls] ?? base.capacity);
  const refill = (opts.refill?.[cls] ?? base.refill) * (opts.timeScale ?? 1);
  return { capacity: cap, refill };
}

/** Theoretical minimum wall time for `calls` calls of one API starting from a full bucket. */
export function minSeconds(action: string, calls: number, opts: ThrottleOptions = {}, input?: Record<string, unknown>): number {
  const { capacity, refill } = bucketParams(classify(action, input ?? { Filters: [{}] }), opts);
  return Math.max(0, calls - capacity) / refill;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class Throttler {
  private buckets = new Map<string, Bucket>();

  constructor(
    private opts: ThrottleOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  configure(opts: ThrottleOptions): void {
    this.opts = opts;
    this.buckets.clear();
  }

  options(): ThrottleOptions {
    return this.opts;
  }

  /** Takes one token from the (account, Region, API) bucket; false means throttled. */
  take(region: string, action: string, input: Record<string, unknown>, account = ''): boolean {
    if (this.opts.enabled === false) return true;
    const cls = classify(action, input);
    const { capacity, refill } = bucketParams(cls, this.opts);
    const key = `${account}|${region}|${action}|${cls}`;
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: capacity, at: now };
    b.tokens = Math.min(capacity, b.tokens + ((now - b.at) / 1000) * refill);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  reset(): void {
    this.buckets.clear();
  }
}
