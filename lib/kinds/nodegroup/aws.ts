// EKS and IAM effects: node groups and workload identity readiness.
import {
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  ListAddonsCommand,
  ListPodIdentityAssociationsCommand,
  UpdateNodegroupVersionCommand,
  paginateListClusters,
  paginateListNodegroups,
  type EKSClient,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import { ListOpenIDConnectProvidersCommand, type IAMClient } from '@aws-sdk/client-iam';
import { issuerRegistered, type IdentityReadiness } from '../../domain/identity.js';
import { errorText } from '../../domain/errors.js';

export async function describeNodegroup(eks: EKSClient, cluster: string, nodegroup: string): Promise<Nodegroup | undefined> {
  try {
    return (await eks.send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup }))).nodegroup;
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

export async function listClusters(eks: EKSClient): Promise<string[]> {
  const out: string[] = [];
  for await (const page of paginateListClusters({ client: eks }, {})) out.push(...(page.clusters ?? []));
  return out;
}

export async function listNodegroups(eks: EKSClient, cluster: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of paginateListNodegroups({ client: eks }, { clusterName: cluster })) out.push(...(page.nodegroups ?? []));
  return out;
}

export async function updateNodegroupVersion(eks: EKSClient, cluster: string, nodegroup: string, lt: { id: string; version: number }) {
  const out = await eks.send(
    new UpdateNodegroupVersionCommand({
      clusterName: cluster,
      nodegroupName: nodegroup,
      launchTemplate: { id: lt.id, version: String(lt.version) },
    }),
  );
  return { updateId: out.update?.id, status: out.update?.status, requestId: out.$metadata?.requestId };
}

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
