// Per-add-on workload identity: the add-ons and controllers known to break at hop limit 1 (REFERENCE §4) and
// whether each one installed in a cluster has its own identity. Pure: the facts come from lib/shell/identity-readiness.ts.

/** One add-on or controller that reads the node role through IMDS unless it has its own identity. */
export interface KnownAddon {
  /** The EKS add-on name, or the usual Helm release name for controllers that are not EKS add-ons. */
  name: string;
  /** True when EKS manages it as an add-on (visible through ListAddons / DescribeAddon). */
  eksAddon: boolean;
  /** Where its credentials-using pods run: any of these (namespace, service account) pairs. */
  serviceAccounts: { namespace: string; serviceAccount: string }[];
  /** Its pods run with hostNetwork: hop limit 1 does not cut them off (they still use the node role). */
  hostNetwork?: boolean;
}

/** The add-ons and controllers checked, with their default service accounts (their install docs / Helm charts). */
export const KNOWN_ADDONS: KnownAddon[] = [
  { name: 'aws-ebs-csi-driver', eksAddon: true, serviceAccounts: [{ namespace: 'kube-system', serviceAccount: 'ebs-csi-controller-sa' }] },
  { name: 'aws-efs-csi-driver', eksAddon: true, serviceAccounts: [{ namespace: 'kube-system', serviceAccount: 'efs-csi-controller-sa' }] },
  {
    name: 'amazon-cloudwatch-observability',
    eksAddon: true,
    serviceAccounts: [{ namespace: 'amazon-cloudwatch', serviceAccount: 'cloudwatch-agent' }],
  },
  { name: 'vpc-cni', eksAddon: true, serviceAccounts: [{ namespace: 'kube-system', serviceAccount: 'aws-node' }], hostNetwork: true },
  {
    name: 'aws-load-balancer-controller',
    eksAddon: false,
    serviceAccounts: [{ namespace: 'kube-system', serviceAccount: 'aws-load-balancer-controller' }],
  },
  {
    name: 'karpenter',
    eksAddon: false,
    serviceAccounts: [
      { namespace: 'kube-system', serviceAccount: 'karpenter' },
      { namespace: 'karpenter', serviceAccount: 'karpenter' },
    ],
  },
];

/**
 * - `own-identity`: an add-on `serviceAccountRoleArn` or a Pod Identity association for its service account.
 * - `no-identity`: installed, and neither exists: at hop limit 1 it loses the node role's credentials.
 * - `not-visible`: a Helm-installed controller the EKS API cannot see (no association found; an IRSA annotation
 *   on its service account is invisible from here). Not reported as missing.
 * - `unknown`: a call failed; `error` says which.
 */
type AddonIdentityStatus = 'own-identity' | 'no-identity' | 'not-visible' | 'unknown';

export interface AddonIdentity {
  name: string;
  status: AddonIdentityStatus;
  via?: 'serviceAccountRoleArn' | 'pod-identity';
  hostNetwork?: boolean;
  error?: string;
}

/** What the shell read: installed EKS add-ons, each one's DescribeAddon answer, and the Pod Identity associations. */
export interface AddonFacts {
  /** ListAddons; undefined when it failed. */
  installed?: string[];
  /** DescribeAddon per known installed add-on: its role, or the call's error. */
  described: Record<string, { serviceAccountRoleArn?: string; error?: string }>;
  /** ListPodIdentityAssociations; undefined when it failed. */
  associations?: { namespace?: string; serviceAccount?: string }[];
  /** Why ListAddons / ListPodIdentityAssociations failed, if they did. */
  errors?: { addons?: string; associations?: string };
}

function hasAssociation(a: KnownAddon, assocs: AddonFacts['associations']): boolean {
  return (assocs ?? []).some((x) => a.serviceAccounts.some((s) => s.namespace === x.namespace && s.serviceAccount === x.serviceAccount));
}

function judge(a: KnownAddon, f: AddonFacts): AddonIdentity | undefined {
  const base = { name: a.name, ...(a.hostNetwork ? { hostNetwork: true } : {}) };
  if (hasAssociation(a, f.associations)) return { ...base, status: 'own-identity', via: 'pod-identity' };
  if (!a.eksAddon) {
    // Not even its installation is visible: a failed association list leaves it not visible, never at risk.
    const error = f.associations ? undefined : (f.errors?.associations ?? 'ListPodIdentityAssociations failed');
    return { ...base, status: 'not-visible', ...(error ? { error } : {}) };
  }
  if (!f.installed) return undefined; // not known to be installed: ListAddons failed (the cluster-level error says so)
  if (!f.installed.includes(a.name)) return undefined;
  const d = f.described[a.name];
  if (d?.serviceAccountRoleArn) return { ...base, status: 'own-identity', via: 'serviceAccountRoleArn' };
  const error = d?.error ?? (f.associations ? undefined : f.errors?.associations);
  if (error) return { ...base, status: 'unknown', error };
  return { ...base, status: 'no-identity' };
}

/**
 * The identity of every known add-on installed in a cluster (Helm-only controllers as `own-identity` or `not-visible`).
 *
 * @example
 * addonIdentities({ installed: ['aws-ebs-csi-driver'], described: { 'aws-ebs-csi-driver': {} }, associations: [] });
 * // [{ name: 'aws-ebs-csi-driver', status: 'no-identity' },
 * //  { name: 'aws-load-balancer-controller', status: 'not-visible' }, { name: 'karpenter', status: 'not-visible' }]
 */
export function addonIdentities(f: AddonFacts): AddonIdentity[] {
  return KNOWN_ADDONS.flatMap((a) => {
    const r = judge(a, f);
    return r ? [r] : [];
  });
}

/** The add-ons that lose credentials at hop limit 1 (no identity, not on the host network), and those not checked. */
export function addonsAtRisk(addons: AddonIdentity[] | undefined): { lose: string[]; unknown: string[] } {
  const xs = addons ?? [];
  return {
    lose: xs.filter((a) => a.status === 'no-identity' && !a.hostNetwork).map((a) => a.name),
    unknown: xs.filter((a) => a.status === 'unknown' && !a.hostNetwork).map((a) => a.name),
  };
}
