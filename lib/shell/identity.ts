// Per-cluster policy under IDENTITY_GATE. Readiness is cached per cluster per container (IDENTITY_CACHE_SECONDS),
// so a burst of events for one cluster makes its 4 identity calls once.
import type { EKSClient } from '@aws-sdk/client-eks';
import type { IAMClient } from '@aws-sdk/client-iam';
import { identityReadiness } from './identity-readiness.js';
import { gatePolicy, type GatedPolicy, type IdentityGate, type IdentityReadiness } from '../domain/identity.js';
import type { Policy } from '../domain/policy.js';

/** The gated policy of a cluster; `base` (when set) is the policy before any gate, to plan with first. */
export interface PolicyFor {
  (cluster: string | undefined): Promise<GatedPolicy>;
  base?: Policy;
}

export interface PolicyCache {
  /** Keeps one container's answers apart per Region and account: cluster names are only unique there. */
  scope: string;
  ttlSeconds: number;
  now?: () => number;
}

const answers = new Map<string, { at: number; readiness: Promise<IdentityReadiness> }>();

/**
 * The gate's policy per cluster. With `cache`, a readiness answer is reused for `ttlSeconds` by every
 * provider of the same scope in this container; an answer with a failed call is not kept (the next event asks again).
 *
 * @example
 * const policyFor = policyProvider({ maxHopLimit: 1 }, 'hold', () => clients, { scope: 'eu-west-1', ttlSeconds: 300 });
 * await policyFor('payments'); // { policy: { maxHopLimit: 1 }, notes: [], details: { identity } }
 */
export function policyProvider(
  base: Policy,
  gate: IdentityGate,
  clients: () => { eks: EKSClient; iam: IAMClient },
  cache: PolicyCache = { scope: '', ttlSeconds: 0 },
): PolicyFor {
  const seen = new Map<string, Promise<IdentityReadiness>>();
  const now = cache.now ?? Date.now;
  const lookup = (cluster: string): Promise<IdentityReadiness> => {
    const key = `${cache.scope}\u0000${cluster}`;
    const hit = answers.get(key);
    if (hit && now() - hit.at < cache.ttlSeconds * 1000) return hit.readiness;
    const inRun = seen.get(cluster);
    if (inRun) return inRun;
    const { eks, iam } = clients();
    const readiness = identityReadiness(eks, iam, cluster);
    // Within one run the answer is always shared; across runs only a complete answer, for the TTL.
    seen.set(cluster, readiness);
    if (cache.ttlSeconds > 0) {
      answers.set(key, { at: now(), readiness });
      void readiness.then((r) => r.error && answers.get(key)?.readiness === readiness && answers.delete(key));
    }
    return readiness;
  };
  const policyFor: PolicyFor = (cluster) => {
    if (gate === 'off' || !cluster) return Promise.resolve({ policy: base, notes: [] });
    return lookup(cluster).then((r) => gatePolicy(base, gate, r));
  };
  policyFor.base = base;
  return policyFor;
}

/** Tests start from an empty cache. */
export function resetIdentityCache(): void {
  answers.clear();
}
