// Which node groups reference which launch templates: lets scope=eks recognise a custom template
// that carries no EKS tags. Built lazily, once per run, only when tags do not decide.
import type { EKSClient } from '@aws-sdk/client-eks';
import pLimit from 'p-limit';
import { describeNodegroup, listClusters, listNodegroups } from './eks.js';

type NodegroupRef = { cluster: string; nodegroup: string };
export type UsedBy = (templateId: string, templateName?: string) => Promise<NodegroupRef[]>;

export function nodegroupIndex(eks: EKSClient): UsedBy {
  let index: Promise<Map<string, NodegroupRef[]>> | undefined;
  const build = async () => {
    const map = new Map<string, NodegroupRef[]>();
    const limit = pLimit(5);
    for (const cluster of await listClusters(eks)) {
      const groups = await listNodegroups(eks, cluster);
      await Promise.all(
        groups.map((nodegroup) =>
          limit(async () => {
            const lt = (await describeNodegroup(eks, cluster, nodegroup))?.launchTemplate;
            for (const key of [lt?.id, lt?.name]) if (key) map.set(key, [...(map.get(key) ?? []), { cluster, nodegroup }]);
          }),
        ),
      );
    }
    return map;
  };
  return async (id, name) => {
    index ??= build();
    const map = await index;
    return [...(map.get(id) ?? []), ...(name ? (map.get(name) ?? []) : [])];
  };
}
