// Owner routing for EKS nodes. EKS does not copy a managed node group's tags (nor its cluster's) to its
// instances, so the owner tags set there would otherwise never reach the nodes' reports. OWNER_SOURCE decides
// whose tag wins (lib/domain/scope.ts resolveOwnerFrom); this module only reads the tags.
import type { EKSClient } from '@aws-sdk/client-eks';
import type { NodeIdentity } from '../domain/scope.js';
import { toTags, type Tags } from '../domain/tags.js';
import { clusterTags, describeNodegroup } from './eks.js';

interface OwnerTags {
  nodegroup: Tags;
  cluster: Tags;
}

export type OwnerTagsFor = (node: NodeIdentity) => Promise<OwnerTags>;

/**
 * The node's managed node group's tags and its cluster's, each read once per container; nothing for a node
 * without a cluster, and nothing on error (routing falls back; the decision itself does not depend on it).
 *
 * @example
 * const { nodegroup, cluster } = await nodegroupOwnerTags(eks)(identifyNode(instance.tags));
 */
export function nodegroupOwnerTags(eks: EKSClient): OwnerTagsFor {
  const seen = new Map<string, Promise<Tags>>();
  const once = (key: string, read: () => Promise<Record<string, string> | undefined>): Promise<Tags> => {
    let tags = seen.get(key);
    if (!tags) {
      tags = read().then(
        (t) => toTags(t ?? {}),
        () => ({}),
      );
      seen.set(key, tags);
    }
    return tags;
  };
  return async (node) => {
    const { cluster, nodegroup } = node;
    if (!cluster) return { nodegroup: {}, cluster: {} };
    const ng =
      node.launcher === 'managed-nodegroup' && nodegroup
        ? once(`nodegroup/${cluster}/${nodegroup}`, async () => (await describeNodegroup(eks, cluster, nodegroup))?.tags)
        : Promise.resolve({});
    const cl = once(`cluster/${cluster}`, () => clusterTags(eks, cluster));
    return { nodegroup: await ng, cluster: await cl };
  };
}
