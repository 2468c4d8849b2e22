// EKS reads shared by the node group kind, the node group index, owner routing and discovery.
import {
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  paginateListAddons,
  paginateListClusters,
  paginateListNodegroups,
  paginateListPodIdentityAssociations,
  type EKSClient,
  type Nodegroup,
  type PodIdentityAssociationSummary,
} from '@aws-sdk/client-eks';

export async function describeNodegroup(eks: EKSClient, cluster: string, nodegroup: string): Promise<Nodegroup | undefined> {
  try {
    return (await eks.send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup }))).nodegroup;
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** A cluster's tags (owner routing); none when the cluster does not exist. */
export async function clusterTags(eks: EKSClient, cluster: string): Promise<Record<string, string>> {
  try {
    return (await eks.send(new DescribeClusterCommand({ name: cluster }))).cluster?.tags ?? {};
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return {};
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

/** Every add-on installed in a cluster, over all pages (100 a page). */
export async function listAddons(eks: EKSClient, cluster: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of paginateListAddons({ client: eks }, { clusterName: cluster })) out.push(...(page.addons ?? []));
  return out;
}

/** Every Pod Identity association of a cluster, over all pages (100 a page). */
export async function listPodIdentityAssociations(eks: EKSClient, cluster: string): Promise<PodIdentityAssociationSummary[]> {
  const out: PodIdentityAssociationSummary[] = [];
  for await (const page of paginateListPodIdentityAssociations({ client: eks }, { clusterName: cluster }))
    out.push(...(page.associations ?? []));
  return out;
}
