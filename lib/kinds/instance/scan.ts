// EC2 effects for a scan: enabled Regions, and every live instance in scope via paginated,
// server-side filtered DescribeInstances.
import { DescribeInstancesCommand, DescribeRegionsCommand, type EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { fromSdkInstance, type DescribedInstance } from './aws.js';

/** The states a scan covers: everything that can still run a workload. */
export const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

/**
 * A superset of the tag keys `identifyNode` accepts (REFERENCE §3). EC2 ORs the values of one
 * filter, and `tag-key` takes wildcards, so one filter narrows to EKS nodes; `identifyNode` still
 * decides locally (e.g. `kubernetes.io/cluster/x` must be `owned` or `shared`).
 */
export const EKS_NODE_TAG_KEYS = [
  'eks:cluster-name',
  'eks:nodegroup-name',
  'eks:eks-cluster-name',
  'karpenter.sh/nodepool',
  'karpenter.k8s.aws/ec2nodeclass',
  'alpha.eksctl.io/cluster-name',
  'kubernetes.io/cluster/*',
];

/**
 * - `inventory` (default): every live instance in scope, one query. Compliant instances are listed
 *   too, so the report has full counts. Costs ceil(in-scope instances / 1000) calls.
 * - `violations`: only instances a filter proves non-compliant: tokens optional, OR hop limit above
 *   the maximum. Filters AND, so that takes two queries whose results are merged; compliant
 *   instances never leave AWS. Costs ceil(optional/1000) + ceil(high hop/1000) calls (at least 2).
 */
export type InstanceQuery = 'inventory' | 'violations';

export interface InstanceScanOptions {
  scope: 'eks' | 'all';
  query: InstanceQuery;
  maxHopLimit: number;
  /** 5–1000; default 1000 (the API maximum). */
  pageSize?: number;
}

/** The filter sets to run (results are unioned). Pure. */
export function instanceQueries(o: Pick<InstanceScanOptions, 'scope' | 'query' | 'maxHopLimit'>): Filter[][] {
  const base: Filter[] = [{ Name: 'instance-state-name', Values: LIVE_STATES }];
  if (o.scope === 'eks') base.push({ Name: 'tag-key', Values: EKS_NODE_TAG_KEYS });
  if (o.query === 'inventory') return [base];
  const highHops = Array.from({ length: 64 - o.maxHopLimit }, (_, i) => String(o.maxHopLimit + 1 + i));
  return [
    [...base, { Name: 'metadata-options.http-tokens', Values: ['optional'] }],
    ...(highHops.length ? [[...base, { Name: 'metadata-options.http-put-response-hop-limit', Values: highHops }]] : []),
  ];
}

export interface InstanceScan {
  /** Sorted by instance ID, so a run can continue after the last ID it handled. */
  instances: DescribedInstance[];
  /** DescribeInstances calls made. */
  calls: number;
}

export async function scanInstances(ec2: EC2Client, o: InstanceScanOptions): Promise<InstanceScan> {
  const byId = new Map<string, DescribedInstance>();
  let calls = 0;
  for (const Filters of instanceQueries(o)) {
    let NextToken: string | undefined;
    do {
      const out = await ec2.send(
        new DescribeInstancesCommand({ Filters, MaxResults: o.pageSize ?? 1000, ...(NextToken ? { NextToken } : {}) }),
      );
      calls++;
      for (const r of out.Reservations ?? [])
        for (const i of r.Instances ?? []) if (i.InstanceId) byId.set(i.InstanceId, fromSdkInstance(i));
      NextToken = out.NextToken || undefined;
    } while (NextToken);
  }
  const instances = [...byId.values()].sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
  return { instances, calls };
}

/** Regions enabled for the account (DescribeRegions without AllRegions lists only those). */
export async function listEnabledRegions(ec2: EC2Client): Promise<string[]> {
  const out = await ec2.send(new DescribeRegionsCommand({}));
  return (out.Regions ?? [])
    .filter((r) => !r.OptInStatus || r.OptInStatus !== 'not-opted-in')
    .map((r) => r.RegionName)
    .filter((r): r is string => !!r)
    .sort();
}
