// Per-cluster policy under IDENTITY_GATE, looked up once per cluster per run.
import type { EKSClient } from '@aws-sdk/client-eks';
import type { IAMClient } from '@aws-sdk/client-iam';
import { identityReadiness } from './identity-readiness.js';
import { gatePolicy, type GatedPolicy, type IdentityGate } from '../domain/identity.js';
import type { Policy } from '../domain/policy.js';

export type PolicyFor = (cluster: string | undefined) => Promise<GatedPolicy>;

export function policyProvider(base: Policy, gate: IdentityGate, clients: () => { eks: EKSClient; iam: IAMClient }): PolicyFor {
  const seen = new Map<string, Promise<GatedPolicy>>();
  return (cluster) => {
    if (gate === 'off' || !cluster) return Promise.resolve({ policy: base, notes: [] });
    if (!seen.has(cluster)) {
      const { eks, iam } = clients();
      seen.set(
        cluster,
        identityReadiness(eks, iam, cluster).then((r) => gatePolicy(base, gate, r)),
      );
    }
    return seen.get(cluster)!;
  };
}
