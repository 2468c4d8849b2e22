// Discovery for one Region: what a backfill looks at. Only Describe/List calls.
import { listTemplates } from '../shell/template-versions.js';
import { scanInstances, type InstanceQuery } from '../kinds/instance/scan.js';
import { listClusters, listNodegroups } from '../shell/eks.js';
import type { DescribedInstance } from '../kinds/instance/aws.js';
import type { Trigger } from '../domain/cloudtrail.js';
import type { InstanceTarget } from '../kinds/instance/events.js';
import type { TemplateInfo } from '../domain/template-versions.js';
import { isComplete } from '../domain/policy.js';
import type { NodegroupTarget } from '../kinds/nodegroup/events.js';
import { identifyNode } from '../domain/scope.js';
import type { BackfillContext } from './context.js';

export interface Include {
  instances: boolean;
  templates: boolean;
  nodegroups: boolean;
  accountDefaults: boolean;
  identity: boolean;
}

export const INCLUDE_ALL: Include = { instances: true, templates: true, nodegroups: true, accountDefaults: true, identity: true };
export const INSTANCES_ONLY: Include = { instances: true, templates: false, nodegroups: false, accountDefaults: false, identity: false };

export interface DiscoverOptions {
  /** Only these clusters (empty: all). */
  clusters: string[];
  query: InstanceQuery;
  include: Include;
  /** Continue after this instance ID (IDs are handled in sorted order). */
  afterInstanceId?: string;
}

export interface RegionDiscovery {
  region: string;
  /** Sorted by instance ID; each carries MetadataOptions and tags, so enforcing costs no Describe. */
  instances: InstanceTarget[];
  templates: TemplateInfo[];
  nodegroups: NodegroupTarget[];
  /** EKS clusters in the Region (after the cluster filter). */
  clusters: string[];
  notes: string[];
  calls: { describeInstances: number };
}

/** A scanned instance as the target enforceInstances takes: options and tags known, no Describe needed. */
export function toTarget(d: DescribedInstance, trigger: Trigger): InstanceTarget {
  return {
    instanceId: d.instanceId,
    region: trigger.region,
    account: trigger.account,
    ...(isComplete(d.metadataOptions) ? { metadataOptions: d.metadataOptions } : {}),
    tags: d.tags,
    actor: trigger.actor,
    eventId: trigger.eventId,
    eventTime: trigger.eventTime,
  };
}

export async function discoverRegion(ctx: BackfillContext, trigger: Trigger, o: DiscoverOptions): Promise<RegionDiscovery> {
  const { ec2, eks } = ctx.clients;
  const wanted = (cluster: string | undefined) => o.clusters.length === 0 || (!!cluster && o.clusters.includes(cluster));
  const notes: string[] = [];

  const needClusters = o.include.nodegroups || o.include.identity;
  const clustersP = needClusters ? listClusters(eks) : Promise.resolve<string[]>([]);
  const instancesP = o.include.instances
    ? scanInstances(ec2, { scope: ctx.settings.scope, query: o.query, maxHopLimit: ctx.config.MAX_HOP_LIMIT })
    : Promise.resolve({ instances: [], calls: 0 });
  const templatesP = o.include.templates
    ? (async () => {
        const out: TemplateInfo[] = [];
        for await (const t of listTemplates(ec2)) out.push(t);
        return out;
      })()
    : Promise.resolve<TemplateInfo[]>([]);

  const [allClusters, scan, allTemplates] = await Promise.all([clustersP, instancesP, templatesP]);

  const clusters = allClusters.filter(wanted);
  for (const c of o.clusters) if (needClusters && !allClusters.includes(c)) notes.push(`cluster ${c} not found in ${ctx.region}`);

  const instances = scan.instances
    .filter((i) => !o.afterInstanceId || i.instanceId > o.afterInstanceId)
    .filter((i) => o.clusters.length === 0 || wanted(identifyNode(i.tags).cluster))
    .map((i) => toTarget(i, trigger));

  // With a cluster filter, a template is kept when its own tags name a wanted cluster or a wanted
  // cluster's node group uses it (the index is built once per Region, and only then).
  let templates = allTemplates;
  if (o.clusters.length > 0) {
    const keep = await Promise.all(
      allTemplates.map(
        async (t) => wanted(identifyNode(t.tags).cluster) || (await ctx.usedBy(t.id, t.name)).some((r) => wanted(r.cluster)),
      ),
    );
    templates = allTemplates.filter((_, i) => keep[i]);
  }

  const nodegroups: NodegroupTarget[] = [];
  if (o.include.nodegroups) {
    for (const cluster of clusters) {
      for (const nodegroup of await listNodegroups(eks, cluster))
        nodegroups.push({ region: ctx.region, account: trigger.account, cluster, nodegroup });
    }
  }
  return { region: ctx.region, instances, templates, nodegroups, clusters, notes, calls: { describeInstances: scan.calls } };
}
