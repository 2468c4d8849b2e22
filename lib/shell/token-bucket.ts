// The token bucket the EC2 rate limiter (rate-limit.ts) keeps per Region and API class. No SDK; time is injected.
/**
 * A reservation-based token bucket: `reserve` takes a token now and says how long to wait for it.
 * Tokens may go negative (queued reservations), so waiters are served in order at the refill rate,
 * with no thundering herd. Time is injected so the math is testable with a fake clock.
 *
 * With `startOnAnchor`, the bucket does not refill until `anchor()` is called. The rate limiter
 * anchors a bucket when the first response for it comes back: AWS's bucket started refilling when
 * that first request arrived, which is no later than its response, so our refill clock never runs
 * ahead of AWS's however slow the first request was.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;
  private anchored: boolean;
  private waiters: (() => void)[] = [];

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    private readonly now: () => number = () => performance.now(),
    opts: { startOnAnchor?: boolean } = {},
  ) {
    if (!(capacity >= 1) || !(refillPerSecond > 0)) throw new RangeError(`invalid bucket ${capacity}/${refillPerSecond}`);
    this.tokens = capacity;
    this.at = now();
    this.anchored = !opts.startOnAnchor;
  }

  private refill(): void {
    const now = this.now();
    if (this.anchored) this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.refillPerSecond);
    this.at = now;
  }

  get isAnchored(): boolean {
    return this.anchored;
  }

  /** Start the refill clock now (no credit for the time before). Idempotent. */
  anchor(): void {
    if (this.anchored) return;
    this.at = this.now();
    this.anchored = true;
    for (const w of this.waiters.splice(0)) w();
  }

  whenAnchored(): Promise<void> {
    return this.anchored ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  /** Tokens available now (negative: that many reservations are queued). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Take `n` tokens; returns the milliseconds to wait before using them (0 = now). */
  reserve(n = 1): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.refillPerSecond) * 1000;
  }

  /** How long `n` more reservations would take to be served, from now. */
  msFor(n: number): number {
    this.refill();
    const short = n - this.tokens;
    return short <= 0 ? 0 : (short / this.refillPerSecond) * 1000;
  }

  /** The server throttled us: its bucket is empty, so ours cannot hold more than zero. */
  drain(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }
}
