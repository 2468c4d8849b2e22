// CloudTrail events from EKS that create or move node groups. Shapes are unconfirmed (REFERENCE §5):
// take the names from wherever they appear and verify with DescribeNodegroup. REST path parameters
// (cluster and node group names) arrive under requestParameters URL-encoded (issue 16): decoded first.
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

/** A URL-encoded path parameter, decoded; a malformed encoding is no name. */
function decoded(c: unknown): string | undefined {
  if (typeof c !== 'string') return undefined;
  try {
    return decodeURIComponent(c);
  } catch {
    return undefined;
  }
}

function name(...candidates: unknown[]): string | undefined {
  return candidates.map(decoded).find((c): c is string => c !== undefined && EKS_NAME.test(c));
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
