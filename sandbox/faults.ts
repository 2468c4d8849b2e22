// Fault injection. Decisions use a seeded PRNG so a given seed and call order
// always produce the same faults.
import { Rng } from './rng.js';

export type FaultKind = 'throttle' | '5xx';

export interface FaultOptions {
  /** Error rate per operation name (e.g. `ModifyInstanceMetadataOptions`, `Publish`), `'sqs:*'` / `'scheduler:*'` for
   * every other operation of SQS / Scheduler, `'*'` for all others.
   * A list mixes kinds (e.g. 30% throttle and 5% 5xx): one draw, rates add up. */
  errors?: Record<string, FaultRule | FaultRule[]>;
  /** Added to every AWS request (not the control plane). */
  latency?: { ms?: number; jitterMs?: number };
  /** Instances terminated just before ModifyInstanceMetadataOptions touches them
   * (→ `InvalidInstanceID.NotFound`): with probability `rate`, or always for `ids`. */
  vanish?: { rate?: number; ids?: string[] };
  /** New instances (and `ids`, at the time the faults are set) stay `pending` for `ms`
   * and/or for `modifyAttempts` ModifyInstanceMetadataOptions calls, which fail with
   * `IncorrectInstanceState`. */
  pending?: { ms?: number; modifyAttempts?: number; ids?: string[] };
  /** EC2's eventual consistency: the instances in `ids` exist but answer `InvalidInstanceID.NotFound` to
   * DescribeInstances (by ID) and ModifyInstanceMetadataOptions, and are left out of Describe listings,
   * for `ms` after their launch and/or for the first `calls` calls naming them (counted per ID from when
   * the faults are set; listings do not count). Invisible while either holds; with neither, for good.
   * Deterministic: no PRNG draw. */
  invisible?: { ids: string[]; ms?: number; calls?: number };
  /** Reseeds the fault PRNG. */
  seed?: number;
}

interface FaultRule {
  rate: number;
  kind: FaultKind;
}

export class Faults {
  private rng: Rng;
  /** Calls answered NotFound so far per invisible ID (reset by `set`). */
  private invisibleCalls = new Map<string, number>();
  constructor(
    private opts: FaultOptions = {},
    seed = 1,
  ) {
    this.rng = new Rng(opts.seed ?? seed);
  }

  set(opts: FaultOptions): void {
    this.opts = opts;
    this.invisibleCalls.clear();
    if (opts.seed !== undefined) this.rng = new Rng(opts.seed);
  }

  get(): FaultOptions {
    return this.opts;
  }

  latencyMs(): number {
    const l = this.opts.latency;
    if (!l) return 0;
    return (l.ms ?? 0) + (l.jitterMs ? this.rng.next() * l.jitterMs : 0);
  }

  /** The injected error kind for this call, if any. */
  error(op: string, service?: string): FaultKind | undefined {
    const errors = this.opts.errors;
    const e = errors?.[op] ?? (service ? errors?.[`${service}:*`] : undefined) ?? errors?.['*'];
    const rules = (Array.isArray(e) ? e : e ? [e] : []).filter((r) => r.rate > 0);
    if (!rules.length) return undefined;
    let x = this.rng.next();
    for (const r of rules) {
      if (x < r.rate) return r.kind;
      x -= r.rate;
    }
    return undefined;
  }

  vanishes(instanceId: string): boolean {
    const v = this.opts.vanish;
    if (!v) return false;
    if (v.ids?.includes(instanceId)) return true;
    return !!v.rate && this.rng.next() < v.rate;
  }

  /** Whether the `invisible` fault hides this instance now. A call naming it (`count`) uses up one of `calls`. */
  invisible(instanceId: string, launchedAt: number, now: number, count = true): boolean {
    const v = this.opts.invisible;
    if (!v?.ids?.includes(instanceId)) return false;
    if (v.ms === undefined && v.calls === undefined) return true;
    const seen = this.invisibleCalls.get(instanceId) ?? 0;
    const hidden = (v.ms !== undefined && now < launchedAt + v.ms) || (v.calls !== undefined && seen < v.calls);
    if (hidden && count) this.invisibleCalls.set(instanceId, seen + 1);
    return hidden;
  }

  pending(): { ms: number; attempts: number } {
    return { ms: this.opts.pending?.ms ?? 0, attempts: this.opts.pending?.modifyAttempts ?? 0 };
  }
}
