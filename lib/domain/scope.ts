// Which resources imds-guard acts on. Pure: decided from tags and config only.
import type { Tags } from './tags.js';

type Launcher = 'managed-nodegroup' | 'karpenter' | 'auto-mode' | 'self-managed' | 'none';

export interface NodeIdentity {
  eks: boolean;
  launcher: Launcher;
  cluster?: string;
  nodegroup?: string;
}

const CLUSTER_TAG = /^kubernetes\.io\/cluster\/(.+)$/;

/** Recognise every EKS launcher in REFERENCE §3 from the tags it stamps on nodes. */
export function identifyNode(tags: Tags): NodeIdentity {
  const k8sCluster = Object.entries(tags)
    .map(([k, v]) => ({ m: CLUSTER_TAG.exec(k), v }))
    // Kubernetes writes `owned`/`shared`; any case counts, so `Owned` cannot take a node out of scope.
    .find(({ m, v }) => m && /^(owned|shared)$/i.test(v))?.m?.[1];

  if (tags['eks:nodegroup-name'] || (tags['eks:cluster-name'] && tags['aws:autoscaling:groupName'])) {
    return {
      eks: true,
      launcher: 'managed-nodegroup',
      cluster: tags['eks:cluster-name'] ?? k8sCluster,
      nodegroup: tags['eks:nodegroup-name'],
    };
  }
  if (tags['karpenter.sh/nodepool'] || tags['karpenter.k8s.aws/ec2nodeclass']) {
    return {
      eks: true,
      launcher: 'karpenter',
      cluster: tags['eks:eks-cluster-name'] ?? k8sCluster,
      nodegroup: tags['karpenter.sh/nodepool'],
    };
  }
  if (tags['eks:eks-cluster-name']) return { eks: true, launcher: 'auto-mode', cluster: tags['eks:eks-cluster-name'] };
  const eksctl = tags['alpha.eksctl.io/cluster-name'];
  if (k8sCluster || eksctl) {
    return { eks: true, launcher: 'self-managed', cluster: k8sCluster ?? eksctl, nodegroup: tags['alpha.eksctl.io/nodegroup-name'] };
  }
  if (tags['eks:cluster-name']) return { eks: true, launcher: 'self-managed', cluster: tags['eks:cluster-name'] };
  return { eks: false, launcher: 'none' };
}

export interface ScopeConfig {
  scope: 'eks' | 'all';
  exemptTagKey: string;
  exemptTagValue: string;
  exemptClusters: string[];
}

/** Scope plus owner routing: what every kind's evaluate and describe take. */
export interface Settings extends ScopeConfig {
  ownerTagKeys: string[];
  defaultOwner: string;
  /** OWNER_SOURCE: which tags route a node's alert first (default nodegroup-first). */
  ownerSource?: OwnerOrder;
}

/**
 * The exemption rule, for every kind: the exempt tag (value compared exactly, case-sensitive: the tag
 * policy in infra/guardrails allows only `true`), then EXEMPT_CLUSTERS. Returns the reason, or undefined
 * when the resource is not exempt.
 *
 * @example
 * exemption({ 'imds-guard:exempt': 'true' }, undefined, cfg) // 'tag imds-guard:exempt=true'
 * exemption({ 'imds-guard:exempt': 'TRUE' }, undefined, cfg) // undefined
 * exemption({}, 'legacy', { ...cfg, exemptClusters: ['legacy'] }) // 'cluster legacy is in EXEMPT_CLUSTERS'
 */
export function exemption(
  tags: Tags,
  cluster: string | undefined,
  cfg: Pick<ScopeConfig, 'exemptTagKey' | 'exemptTagValue' | 'exemptClusters'>,
): string | undefined {
  const tagValue = tags[cfg.exemptTagKey];
  if (tagValue !== undefined && tagValue === cfg.exemptTagValue) return `tag ${cfg.exemptTagKey}=${tagValue}`;
  if (cluster && cfg.exemptClusters.includes(cluster)) return `cluster ${cluster} is in EXEMPT_CLUSTERS`;
  return undefined;
}

/** The tags a CreateTags (`set`) or DeleteTags (`deleted`) event changed on a resource. */
export interface TagChange {
  set: Tags;
  deleted: string[];
}

/**
 * Who set the exemption, when the event that triggered the run is the CreateTags that set it (CloudTrail
 * names the caller): for the record's `details`. Undefined otherwise.
 *
 * @example
 * exemptionDetails({ tagChange: { set: { 'imds-guard:exempt': 'true' }, deleted: [] }, actor: 'arn:…', eventTime: 't' }, cfg)
 * // { exemption: { setBy: 'arn:…', setAt: 't', event: 'CreateTags' } }
 */
export function exemptionDetails(
  t: { tagChange?: TagChange | undefined; actor: string; eventTime: string; eventName?: string },
  cfg: Pick<ScopeConfig, 'exemptTagKey' | 'exemptTagValue'>,
): { exemption: { setBy: string; setAt: string; event: string } } | undefined {
  if (t.tagChange?.set[cfg.exemptTagKey] !== cfg.exemptTagValue) return undefined;
  return { exemption: { setBy: t.actor, setAt: t.eventTime, event: t.eventName ?? 'CreateTags' } };
}

export type ScopeDecision =
  | { action: 'enforce'; node: NodeIdentity }
  | { action: 'exempt'; node: NodeIdentity; reason: string }
  | { action: 'out-of-scope'; node: NodeIdentity; reason: string };

export function decideScope(tags: Tags, cfg: ScopeConfig): ScopeDecision {
  const node = identifyNode(tags);
  if (cfg.scope === 'eks' && !node.eks) return { action: 'out-of-scope', node, reason: 'not an EKS node (scope=eks)' };
  const exempt = exemption(tags, node.cluster, cfg);
  return exempt ? { action: 'exempt', node, reason: exempt } : { action: 'enforce', node };
}

/** The owner who hears about a resource: the first configured tag that is set, or the default. */
export function resolveOwner(tags: Tags, keys: string[], fallback: string): string {
  for (const k of keys) {
    const v = tags[k]?.trim();
    if (v) return v;
  }
  return fallback;
}

/** Where a resource's owner came from (the record's `details.ownerSource`). */
export type OwnerSource = 'nodegroup' | 'cluster' | 'instance' | 'default';
export type OwnerOrder = 'nodegroup-first' | 'instance-first';

/**
 * Owner routing with its source. `nodegroup-first` (the default, OWNER_SOURCE) prefers the node group's
 * tags, then the cluster's, to the instance's, so whoever can tag a node cannot send its alert elsewhere;
 * `instance-first` keeps the instance's own tags first.
 *
 * @example
 * resolveOwnerFrom({ instance: { owner: 'x' }, nodegroup: { owner: 'payments' } }, ['owner'], 'platform')
 * // { owner: 'payments', ownerSource: 'nodegroup' }
 */
export function resolveOwnerFrom(
  tags: Partial<Record<Exclude<OwnerSource, 'default'>, Tags>>,
  keys: string[],
  fallback: string,
  order: OwnerOrder = 'nodegroup-first',
): { owner: string; ownerSource: OwnerSource } {
  const sources: Exclude<OwnerSource, 'default'>[] =
    order === 'nodegroup-first' ? ['nodegroup', 'cluster', 'instance'] : ['instance', 'nodegroup', 'cluster'];
  for (const source of sources) {
    const owner = resolveOwner(tags[source] ?? {}, keys, '');
    if (owner) return { owner, ownerSource: source };
  }
  return { owner: fallback, ownerSource: 'default' };
}
