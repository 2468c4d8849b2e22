// EKS effects of the node group kind: the rollout. Reads shared with other kinds are in lib/shell/eks.ts.
import { UpdateNodegroupVersionCommand, type EKSClient } from '@aws-sdk/client-eks';

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
