// What every service handler gets: state, fault/throttle controllers, stats.
import { randomUUID } from 'node:crypto';
import type { Accounts } from './accounts.js';
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
  /** Every account of the sandbox (set by startSandbox; the home account is `state`). */
  accounts?: Accounts;
  private readonly views = new Map<string, Runtime>();
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

  /**
   * This runtime acting in another account: its own state, shared stats, faults and throttler (whose buckets are
   * keyed by account).
   * @example
   * const member = rt.inAccount(rt.accounts!.state('444455556666')); member.state.accountId; // '444455556666'
   */
  inAccount(state: SandboxState): Runtime {
    if (state === this.state) return this;
    let v = this.views.get(state.accountId);
    if (!v || v.state !== state) {
      v = Object.create(this, { state: { value: state } }) as Runtime;
      this.views.set(state.accountId, v);
    }
    return v;
  }
}

/** Per-request context. */
export interface Ctx {
  rt: Runtime;
  region: string;
  rs: RegionState;
  op: string;
  requestId: string;
  /** The request's SigV4 access key (which account it acts in), when signed. */
  accessKeyId?: string;
}

/** The context of one request; `accessKeyId` picks the account (the home account when unset or unknown). */
export function ctxFor(rt: Runtime, region: string, op: string, requestId: string = randomUUID(), accessKeyId?: string): Ctx {
  const art = accessKeyId && rt.accounts ? rt.inAccount(rt.accounts.forKey(accessKeyId)) : rt;
  return { rt: art, region, rs: art.state.region(region), op, requestId, accessKeyId };
}
