// Fault injection. Decisions use a seeded PRNG so a given seed and call order
// always produce the same faults.
import { Rng } from './rng.js';

export type FaultKind = 'throttle' | '5xx';

export interface FaultOptions {
  /** Error rate per operation name (e.g. `ModifyInstanceMetadataOptions`, `Publish`), `'*'` for all others.
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
  /** Reseeds the fault PRNG. */
  seed?: number;
}

export interface FaultRule {
  rate: number;
  kind: FaultKind;
}

export class Faults {
  private rng: Rng;
  constructor(
    private opts: FaultOptions = {},
    seed = 1,
  ) {
    this.rng = new Rng(opts.seed ?? seed);
  }

  set(opts: FaultOptions): void {
    this.opts = opts;
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
  error(op: string): FaultKind | undefined {
    const e = this.opts.errors?.[op] ?? this.opts.errors?.['*'];
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

  pending(): { ms: number; attempts: number } {
    return { ms: this.opts.pending?.ms ?? 0, attempts: this.opts.pending?.modifyAttempts ?? 0 };
  }
}
