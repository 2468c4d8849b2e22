// EKS and IAM reads for workload identity readiness (IRSA, Pod Identity) of one cluster. Each of the four
// calls counts on its own: a failed ListPodIdentityAssociations does not discard a positive IRSA answer.
import { errorOf } from '../domain/errors.js';
import { DescribeClusterCommand, ListAddonsCommand, ListPodIdentityAssociationsCommand, type EKSClient } from '@aws-sdk/client-eks';
import { ListOpenIDConnectProvidersCommand, type IAMClient } from '@aws-sdk/client-iam';
import { issuerRegistered, type IdentityReadiness } from '../domain/identity.js';

/** `<ErrorName>: <first line of the message>` (at most 200 characters), never raw SDK text. */
function errorLine(err: unknown): string {
  const e = errorOf(err);
  const line = (e.message.split(/\r?\n/)[0] ?? '').trim();
  const short = line.length > 200 ? `${line.slice(0, 199)}…` : line;
  return short ? `${e.name}: ${short}` : e.name;
}

/**
 * IRSA (issuer registered in IAM) and Pod Identity (agent add-on + associations) for one cluster. A failed
 * call leaves only its own part unknown (false / 0) and adds `<ErrorName>: <message> (<call>)` to `error`.
 *
 * @example
 * const r = await identityReadiness(eks, iam, 'payments');
 * // { cluster: 'payments', irsa: true, podIdentityAgent: false, podIdentityAssociations: 0,
 * //   error: 'AccessDeniedException: not authorized (ListPodIdentityAssociations)' }
 */
export async function identityReadiness(eks: EKSClient, iam: IAMClient, cluster: string): Promise<IdentityReadiness> {
  const [desc, addons, assocs, providers] = await Promise.allSettled([
    eks.send(new DescribeClusterCommand({ name: cluster })),
    eks.send(new ListAddonsCommand({ clusterName: cluster })),
    eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster })),
    iam.send(new ListOpenIDConnectProvidersCommand({})),
  ]);
  const calls = ['DescribeCluster', 'ListAddons', 'ListPodIdentityAssociations', 'ListOpenIDConnectProviders'];
  const errors = [desc, addons, assocs, providers].flatMap((r, n) =>
    r.status === 'rejected' ? [`${errorLine(r.reason)} (${calls[n]})`] : [],
  );
  const issuer = desc.status === 'fulfilled' ? desc.value.cluster?.identity?.oidc?.issuer : undefined;
  const arns = providers.status === 'fulfilled' ? (providers.value.OpenIDConnectProviderList ?? []).map((p) => p.Arn ?? '') : [];
  return {
    cluster,
    irsa: issuer ? issuerRegistered(issuer, arns) : false,
    podIdentityAgent: addons.status === 'fulfilled' && (addons.value.addons ?? []).includes('eks-pod-identity-agent'),
    podIdentityAssociations: assocs.status === 'fulfilled' ? (assocs.value.associations?.length ?? 0) : 0,
    ...(errors.length ? { error: errors.join('; ') } : {}),
  };
}
