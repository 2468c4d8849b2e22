// Where a bench:org run's time goes, per (account x Region) unit, from the product's own limiter: a RateLimiter
// that also notes, for each unit's ModifyInstanceMetadataOptions bucket, when its first call asked for a token,
// when the first response came back (the limiter's refill anchor) and when the last one did.
import { RateLimiter } from '../lib/shell/rate-limit.js';

const MODIFY = 'ModifyInstanceMetadataOptions';

interface UnitTimes {
  firstAcquire: number;
  firstResponse?: number;
  lastResponse: number;
  calls: number;
}

/** A RateLimiter (unchanged behaviour) that records each unit's Modify timeline. */
export class TimedLimiter extends RateLimiter {
  readonly units = new Map<string, UnitTimes>();

  override async acquire(region: string, action: string, input: Record<string, unknown> = {}): Promise<number> {
    if (action === MODIFY && !this.units.has(region))
      this.units.set(region, { firstAcquire: performance.now(), lastResponse: 0, calls: 0 });
    return super.acquire(region, action, input);
  }

  override onThrottle(region: string, action: string, input: Record<string, unknown> = {}): void {
    const u = this.units.get(region);
    // BENCH_DEBUG: when in the unit a throttle got through, and what our bucket thought it had left.
    if (process.env.BENCH_DEBUG && u) {
      const at = ((performance.now() - u.firstAcquire) / 1000).toFixed(2);
      const left = this.bucket(region, 'ModifyInstanceMetadataOptions').available().toFixed(1);
      console.error(`throttle ${region} ${action} ${at} s after the first Modify, ${u.calls} responses, ${left} tokens`);
    }
    super.onThrottle(region, action, input);
  }

  override onResponse(region: string, action: string, input: Record<string, unknown> = {}): void {
    const u = action === MODIFY ? this.units.get(region) : undefined;
    if (u) {
      const t = performance.now();
      u.firstResponse ??= t;
      u.lastResponse = t;
      u.calls++;
    }
    super.onResponse(region, action, input);
  }
}

const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return `median ${at(0.5).toFixed(1)} s, max ${at(1).toFixed(1)} s`;
};

/**
 * The breakdown lines: start to the first Modify, first Modify to its response (anchor lag), the paced part
 * against its ideal, and the last Modify response to the end of the run. Times in AWS seconds.
 * @example
 * console.log(breakdown(limiter, t0, t1, 2, 20).join('\n'));
 */
export function breakdown(l: TimedLimiter, t0: number, t1: number, scale: number, idealPacing: number): string[] {
  const aws = (ms: number) => (ms / 1000) * scale;
  const us = [...l.units.values()];
  const lastAll = Math.max(...us.map((u) => u.lastResponse));
  return [
    `  start -> first Modify (plan step, AssumeRole, the early first page, its dry-run plan): ${stat(us.map((u) => aws(u.firstAcquire - t0)))}`,
    `  first Modify -> its response (limiter anchor lag): ${stat(us.map((u) => aws((u.firstResponse ?? u.firstAcquire) - u.firstAcquire)))}`,
    `  first response -> last response (paced; ideal ${idealPacing.toFixed(1)} s): ` +
      stat(us.map((u) => aws(u.lastResponse - (u.firstResponse ?? u.lastResponse)))),
    `  last Modify response of the run -> end (records, publish, summary, checkpoints): ${aws(t1 - lastAll).toFixed(1)} s`,
  ];
}
