// EKS and IAM reads for workload identity readiness (IRSA, Pod Identity) of one cluster.
import { errorText } from '../domain/errors.js';
import { DescribeClusterCommand, ListAddonsCommand, ListPodIdentityAssociationsCommand, type EKSClient } from '@aws-sdk/client-eks';
import { ListOpenIDConnectProvidersCommand, type IAMClient } from '@aws-sdk/client-iam';
import { issuerRegistered, type IdentityReadiness } from '../domain/identity.js';

/** IRSA (issuer registered in IAM) and Pod Identity (agent add-on + associations) for one cluster. */
export async function identityReadiness(eks: EKSClient, iam: IAMClient, cluster: string): Promise<IdentityReadiness> {
  try {
    const [desc, addons, assocs, providers] = await Promise.all([
      eks.send(new DescribeClusterCommand({ name: cluster })),
      eks.send(new ListAddonsCommand({ clusterName: cluster })),
      eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster })),
      iam.send(new ListOpenIDConnectProvidersCommand({})),
    ]);
    const issuer = desc.cluster?.identity?.oidc?.issuer;
    const arns = (providers.OpenIDConnectProviderList ?? []).map((p) => p.Arn ?? '');
    return {
      cluster,
      irsa: issuer ? issuerRegistered(issuer, arns) : false,
      podIdentityAgent: (addons.addons ?? []).includes('eks-pod-identity-agent'),
      podIdentityAssociations: assocs.associations?.length ?? 0,
    };
  } catch (err) {
    return { cluster, irsa: false, podIdentityAgent: false, podIdentityAssociations: 0, error: errorText(err) };
  }
}
