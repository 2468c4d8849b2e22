// Workload identity readiness (CIS EKS: workloads should not use the node role) and the gate it drives.
import type { Policy } from './policy.js';

export interface IdentityReadiness {
  cluster: string;
  /** The cluster's OIDC issuer is registered as an IAM OIDC provider. */
  irsa: boolean;
  /** The eks-pod-identity-agent add-on is installed. */
  podIdentityAgent: boolean;
  podIdentityAssociations: number;
  /** Could not be determined (API error): treated as not ready. */
  error?: string;
}

export type IdentityGate = 'warn' | 'hold' | 'off';

function isReady(r: IdentityReadiness): boolean {
  return r.irsa || (r.podIdentityAgent && r.podIdentityAssociations > 0);
}

export interface GatedPolicy {
  policy: Policy;
  notes: string[];
  details?: Record<string, unknown>;
}

/** Apply IDENTITY_GATE to the base policy for one cluster. */
export function gatePolicy(base: Policy, gate: IdentityGate, r: IdentityReadiness | undefined): GatedPolicy {
  if (gate === 'off' || !r) return { policy: base, notes: [] };
  const details = { identity: r };
  if (isReady(r)) return { policy: base, notes: [], details };
  const why = r.error ? `identity readiness unknown (${r.error})` : 'no IRSA and no Pod Identity';
  if (gate === 'hold') {
    return {
      policy: { ...base, holdHopLimit: true },
      notes: [
        `cluster ${r.cluster}: ${why}; IDENTITY_GATE=hold kept the hop limit and only required tokens. ` +
          'Set up IRSA or Pod Identity, then lower the hop limit.',
      ],
      details,
    };
  }
  return {
    policy: base,
    notes: [
      `cluster ${r.cluster}: ${why}. Pods that used the node role's credentials lose them at hop limit ${base.maxHopLimit}; ` +
        'move them to IRSA or Pod Identity.',
    ],
    details,
  };
}

/** An IAM OIDC provider ARN matches an issuer when its host/path equals the issuer without the scheme. */
export function issuerRegistered(issuer: string, providerArns: string[]): boolean {
  const hostPath = issuer.replace(/^https:\/\//, '');
  return providerArns.some((arn) => arn.endsWith(`:oidc-provider/${hostPath}`));
}
