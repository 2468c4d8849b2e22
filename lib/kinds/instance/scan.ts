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

const byInstanceId = (a: DescribedInstance, b: DescribedInstance) =>
  a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0;

/** Every page of every query, in order: the first page of the first query holds at most `firstPage` instances. */
async function* pages(ec2: EC2Client, o: InstanceScanOptions, firstPage?: number): AsyncGenerator<DescribedInstance[]> {
  let first = firstPage;
  for (const Filters of instanceQueries(o)) {
    let NextToken: string | undefined;
    do {
      const MaxResults = first ?? o.pageSize ?? 1000;
      first = undefined;
      const out = await ec2.send(new DescribeInstancesCommand({ Filters, MaxResults, ...(NextToken ? { NextToken } : {}) }));
      yield (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).filter((i) => i.InstanceId).map(fromSdkInstance));
      NextToken = out.NextToken || undefined;
    } while (NextToken);
  }
}

/** The pages' instances, each once (the violations queries overlap), sorted by ID; `seen` are left out. */
async function collect(it: AsyncGenerator<DescribedInstance[]>, seen = new Set<string>()): Promise<InstanceScan> {
  const byId = new Map<string, DescribedInstance>();
  let calls = 0;
  for await (const page of it) {
    calls++;
    for (const i of page) if (!seen.has(i.instanceId)) byId.set(i.instanceId, i);
  }
  return { instances: [...byId.values()].sort(byInstanceId), calls };
}

export async function scanInstances(ec2: EC2Client, o: InstanceScanOptions): Promise<InstanceScan> {
  return collect(pages(ec2, o));
}

/** A scan handed over in two parts: a small first page at once, the rest (none of the first's) when asked for. */
export interface EarlyScan {
  first: InstanceScan;
  /** Lists the rest (once: a second call returns the same promise). */
  rest: () => Promise<InstanceScan>;
}

/**
 * A scan whose first page (`firstPage` instances, 5–1000) comes back before the rest are listed, so changes can
 * start while a large Region is still being read: the rest continues from the first page's NextToken (no instance
 * is described twice) and never repeats one of the first page's. The rest is listed when asked for: a caller
 * that changes the first page first keeps the big pages' parsing out of the way of those first calls.
 * @example
 * const { first, rest } = await scanInstancesEarly(ec2, { scope: 'eks', query: 'inventory', maxHopLimit: 1 }, 25);
 */
export async function scanInstancesEarly(ec2: EC2Client, o: InstanceScanOptions, firstPage: number): Promise<EarlyScan> {
  const it = pages(ec2, o, firstPage);
  const head = await it.next();
  const page = head.done ? [] : head.value;
  const first = { instances: [...new Map(page.map((i) => [i.instanceId, i])).values()].sort(byInstanceId), calls: head.done ? 0 : 1 };
  let rest: Promise<InstanceScan> | undefined;
  return { first, rest: () => (rest ??= collect(it, new Set(page.map((i) => i.instanceId)))) };
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
