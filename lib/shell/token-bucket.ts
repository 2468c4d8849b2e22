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
 *
 * With `expect(n)`, the next `n` reservations are spread evenly over the time the bucket needs for them
 * anyway, instead of spending the whole burst at once: the last one is served no later than without
 * pacing, but a run of many units does not send every unit's burst in the same second (the caller's
 * thread stays free for the units still discovering, and the account's bucket keeps tokens for
 * other callers until the end).
 */
export class TokenBucket {
  private tokens: number;
  private at: number;
  private anchored: boolean;
  private waiters: (() => void)[] = [];
  /** Even pacing of announced calls: the first `lead` at once, then slot k at `start + (k - lead + 1) * interval`. */
  private pace: { start: number; lead: number; interval: number; next: number; left: number } | undefined;

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
    const wait = this.tokens >= 0 ? 0 : (-this.tokens / this.refillPerSecond) * 1000;
    const p = this.pace;
    if (!p) return wait;
    // A slot in the past (the caller fell behind) is used at once: the schedule is absolute, so catching up
    // costs no time, and the tokens still bound it.
    const slot = p.next < p.lead ? p.start : p.start + (p.next - p.lead + 1) * p.interval;
    p.next += n;
    p.left -= n;
    if (p.left <= 0) this.pace = undefined;
    return Math.max(wait, slot - this.now());
  }

  /**
   * The next `n` reservations are coming (`n` = 0 stops pacing): a tenth of the burst at once, the rest evenly over
   * the time they need anyway, `(n - tokens) / rate`. Nothing is paced when the tokens cover them all. The lead
   * keeps the bucket below full while pacing starts: a full bucket wastes its refill, and AWS's, anchored
   * earlier than ours, would waste more of it (our model would then run ahead of AWS's near the end).
   */
  expect(n: number): void {
    this.refill();
    const lead = Math.min(n, Math.max(0, Math.floor(this.tokens)), Math.ceil(this.capacity / 10));
    const spanMs = ((n - this.tokens) / this.refillPerSecond) * 1000;
    this.pace = spanMs > 0 && n > lead ? { start: this.now(), lead, interval: spanMs / (n - lead), next: 0, left: n } : undefined;
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
