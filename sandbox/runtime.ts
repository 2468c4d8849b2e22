// What every service handler gets: state, fault/throttle controllers, stats.
import { randomUUID } from 'node:crypto';
import type { Faults } from './faults.js';
import type { RegionState, SandboxState } from './state.js';
import type { Throttler } from './throttle.js';

export interface Stats {
  calls: Record<string, number>;
  throttled: Record<string, number>;
  faults: Record<string, number>;
}

export class Runtime {
  stats: Stats = { calls: {}, throttled: {}, faults: {} };
  constructor(
    readonly state: SandboxState,
    readonly throttle: Throttler,
    readonly faults: Faults,
  ) {}

  count(kind: keyof Stats, op: string): void {
    this.stats[kind][op] = (this.stats[kind][op] ?? 0) + 1;
  }

  resetStats(): void {
    this.stats = { calls: {}, throttled: {}, faults: {} };
  }
}

/** Per-request context. */
export interface Ctx {
  rt: Runtime;
  region: string;
  rs: RegionState;
  op: string;
  requestId: string;
}

export function ctxFor(rt: Runtime, region: string, op: string, requestId: string = randomUUID()): Ctx {
  return { rt, region, rs: rt.state.region(region), op, requestId };
}
