// Workload identity readiness (CIS EKS: workloads should not use the node role) and the gate it drives.
import { addonsAtRisk, type AddonIdentity } from './addons.js';
import type { Policy } from './policy.js';

export interface IdentityReadiness {
  cluster: string;
  /** The cluster's OIDC issuer is registered as an IAM OIDC provider. */
  irsa: boolean;
  /** The eks-pod-identity-agent add-on is installed. */
  podIdentityAgent: boolean;
  podIdentityAssociations: number;
  /** The known add-ons and controllers installed (lib/domain/addons.ts), each with its own identity or not. */
  addons?: AddonIdentity[];
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

/** The add-on part of the gate's notes: who loses credentials at the policy's hop limit, who could not be checked. */
function addonNotes(cluster: string, hop: number, risk: { lose: string[]; unknown: string[] }): string[] {
  const many = risk.lose.length > 1;
  const lose =
    `cluster ${cluster}: ${risk.lose.join(', ')} ${many ? 'have' : 'has'} no identity of ${many ? 'their' : 'its'} own ` +
    `and will lose the node role's credentials at hop limit ${hop}; ` +
    'give each an IRSA role (serviceAccountRoleArn) or a Pod Identity association.';
  const unknown = `cluster ${cluster}: could not check the identity of ${risk.unknown.join(', ')}; treated as at risk.`;
  return [...(risk.lose.length ? [lose] : []), ...(risk.unknown.length ? [unknown] : [])];
}

/**
 * Apply IDENTITY_GATE to the base policy for one cluster. The cluster is at risk when it has neither IRSA nor Pod
 * Identity, or when a known add-on installed in it (lib/domain/addons.ts) has no identity of its own or could not be
 * checked; `hold` keeps the hop limit (tokens still required) only then.
 *
 * @example
 * gatePolicy({ maxHopLimit: 1 }, 'hold', { cluster: 'c', irsa: true, podIdentityAgent: false, podIdentityAssociations: 0,
 *   addons: [{ name: 'aws-ebs-csi-driver', status: 'no-identity' }] }).policy; // { maxHopLimit: 1, holdHopLimit: true }
 */
export function gatePolicy(base: Policy, gate: IdentityGate, r: IdentityReadiness | undefined): GatedPolicy {
  if (gate === 'off' || !r) return { policy: base, notes: [] };
  const risk = addonsAtRisk(r.addons);
  const details = { identity: r, ...(risk.lose.length ? { addonsLosingCredentials: risk.lose } : {}) };
  const ready = isReady(r);
  const extra = addonNotes(r.cluster, base.maxHopLimit, risk);
  if (ready && !extra.length) return { policy: base, notes: [], details };
  const why = r.error ? `identity readiness unknown (${r.error})` : 'no IRSA and no Pod Identity';
  if (gate === 'hold') {
    const held = ready
      ? `cluster ${r.cluster}: IDENTITY_GATE=hold kept the hop limit and only required tokens until they have their own identity.`
      : `cluster ${r.cluster}: ${why}; IDENTITY_GATE=hold kept the hop limit and only required tokens. ` +
        'Set up IRSA or Pod Identity, then lower the hop limit.';
    return { policy: { ...base, holdHopLimit: true }, notes: ready ? [...extra, held] : [held, ...extra], details };
  }
  const warn = ready
    ? []
    : [
        `cluster ${r.cluster}: ${why}. Pods that used the node role's credentials lose them at hop limit ${base.maxHopLimit}; ` +
          'move them to IRSA or Pod Identity.',
      ];
  return { policy: base, notes: [...warn, ...extra], details };
}

/** An IAM OIDC provider ARN matches an issuer when its host/path equals the issuer without the scheme. */
export function issuerRegistered(issuer: string, providerArns: string[]): boolean {
  const hostPath = issuer.replace(/^https:\/\//, '');
  return providerArns.some((arn) => arn.endsWith(`:oidc-provider/${hostPath}`));
}
