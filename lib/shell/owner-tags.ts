// Owner routing for managed node group instances. EKS does not copy a node group's tags to its
// instances, so an owner tag set on the node group would otherwise never reach its nodes' reports.
import type { EKSClient } from '@aws-sdk/client-eks';
import { describeNodegroup } from './eks.js';
import type { NodeIdentity } from '../domain/scope.js';
import { toTags, type Tags } from '../domain/tags.js';

export type OwnerTagsFor = (node: NodeIdentity) => Promise<Tags>;

/** The node group's tags, once per node group per run; nothing for other launchers or on error. */
export function nodegroupOwnerTags(eks: EKSClient): OwnerTagsFor {
  const seen = new Map<string, Promise<Tags>>();
  return (node) => {
    if (node.launcher !== 'managed-nodegroup' || !node.cluster || !node.nodegroup) return Promise.resolve({});
    const key = `${node.cluster}/${node.nodegroup}`;
    let tags = seen.get(key);
    if (!tags) {
      tags = describeNodegroup(eks, node.cluster, node.nodegroup).then(
        (ng) => toTags(ng?.tags ?? {}),
        () => ({}), // routing falls back to the default owner; the decision itself does not depend on it
      );
      seen.set(key, tags);
    }
    return tags;
  };
}
