// CloudTrail events from EKS that create or move node groups. Shapes are unconfirmed (REFERENCE §5):
// take the names from wherever they appear and verify with DescribeNodegroup.
import { acceptEvent, prop, type Ignored, type Invalid, type Trigger } from '../../domain/cloudtrail.js';

export interface NodegroupTarget {
  region: string;
  account: string;
  cluster: string;
  nodegroup: string;
}

export type NodegroupEventResult = { kind: 'targets'; trigger: Trigger; targets: NodegroupTarget[] } | Ignored | Invalid;

const NODEGROUP_EVENTS = ['CreateNodegroup', 'UpdateNodegroupVersion'] as const;
const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

function name(...candidates: unknown[]): string | undefined {
  return candidates.find((c): c is string => typeof c === 'string' && EKS_NAME.test(c));
}

export function parseNodegroupEvent(raw: unknown, selfRoleNames: string[]): NodegroupEventResult {
  const env = acceptEvent(raw, selfRoleNames, NODEGROUP_EVENTS, 'enforce-nodegroups');
  if (env.kind !== 'ok') return env;
  const { detail: d, trigger } = env;
  const req = d.requestParameters;
  const ng = prop(d.responseElements, 'nodegroup');
  const cluster = name(prop(req, 'name'), prop(req, 'clusterName'), prop(ng, 'clusterName'));
  const nodegroup = name(prop(req, 'nodegroupName'), prop(ng, 'nodegroupName'));
  if (!cluster || !nodegroup)
    return { kind: 'ignored', reason: 'no-resources', message: `${d.eventName} names no cluster and node group`, trigger };
  return { kind: 'targets', trigger, targets: [{ region: trigger.region, account: trigger.account, cluster, nodegroup }] };
}
