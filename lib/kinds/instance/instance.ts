// The instance resource kind: find, evaluate, remediate, describe in the audit.
import type { EC2Client } from '@aws-sdk/client-ec2';
import { describeInstances, modifyMetadataOptions, type NotFoundRetry } from './aws.js';
import { arn, recordFor, type AuditFacts, type AuditRecord, type AuditResource, type Outcome } from '../../domain/audit.js';
import type { InstanceTarget } from './events.js';
import {
  applyRemediation,
  describeViolations,
  evaluate as evaluatePolicy,
  planRemediation,
  type MetadataOptions,
  type Policy,
  type Remediation,
} from '../../domain/policy.js';
import { decideScope, resolveOwnerFrom, type NodeIdentity, type ScopeConfig, type Settings } from '../../domain/scope.js';
import type { Tags } from '../../domain/tags.js';
import { errorOf, withRequestId } from '../../domain/errors.js';

/** A target whose options and tags are known. */
export interface KnownInstance extends InstanceTarget {
  metadataOptions: MetadataOptions;
  tags: Tags;
  /** From DescribeInstances, when the instance was described (ISO time). */
  launchTime?: string;
}

export interface FindResult {
  known: KnownInstance[];
  gone: InstanceTarget[];
}

// --- The age rule (EC2 eventual consistency) ------------------------------------------------------

/** Events whose time is the launch time of the instances they name. */
const LAUNCH_EVENTS: readonly string[] = ['RunInstances', 'CreateFleet'];
/**
 * How long after its launch an instance's NotFound may still be EC2's eventual consistency (AWS documents
 * seconds). 5 minutes covers the lag with a wide margin plus CloudTrail-to-EventBridge delivery, and stays
 * far below the ~1 h a terminated instance remains visible, so a real termination is still told apart.
 */
export const FRESH_LAUNCH_MS = 5 * 60_000;

/**
 * The age rule: launched within FRESH_LAUNCH_MS, by the launch event's time (RunInstances, CreateFleet;
 * not a drift event or a backfill, whose time is not the launch) or by the LaunchTime EC2 returned. Only a
 * fresh instance's NotFound is retried; any other NotFound is `gone` at once. A time further in the future
 * than the window (a bad clock, a forged event) is not fresh.
 */
export function isFreshLaunch(
  i: { eventTime: string; launchTime?: string | undefined },
  eventName: string,
  now: number = Date.now(),
): boolean {
  const times = [LAUNCH_EVENTS.includes(eventName) ? i.eventTime : undefined, i.launchTime];
  return times.some((t) => {
    const at = t === undefined ? NaN : Date.parse(t);
    return Number.isFinite(at) && Math.abs(now - at) < FRESH_LAUNCH_MS;
  });
}

export interface FindOptions {
  /** The age rule's verdict per target: a fresh target's NotFound is described again after `retry`'s waits. */
  isFresh?: (t: InstanceTarget) => boolean;
  retry?: NotFoundRetry;
}

/** find: fill in what the event did not carry, describing only the missing instances. */
export async function find(ec2: EC2Client, targets: InstanceTarget[], opts: FindOptions = {}): Promise<FindResult> {
  const missing = targets.filter((t) => !t.metadataOptions || !t.tags);
  const freshIds = new Set(opts.isFresh ? missing.filter(opts.isFresh).map((t) => t.instanceId) : []);
  const ids = [...new Set(missing.map((t) => t.instanceId))];
  const described = ids.length
    ? await describeInstances(ec2, ids, freshIds.size && opts.retry ? { isFresh: (id) => freshIds.has(id), retry: opts.retry } : {})
    : new Map();
  const known: KnownInstance[] = [];
  const gone: InstanceTarget[] = [];
  for (const t of targets) {
    if (t.metadataOptions && t.tags) {
      known.push(t as KnownInstance);
      continue;
    }
    const d = described.get(t.instanceId);
    if (!d) {
      gone.push(t);
      continue;
    }
    // Terminated but still described: the record keeps the tags EC2 returned (owner, cluster), not the event's none.
    const filled = { ...t, metadataOptions: t.metadataOptions ?? d.metadataOptions, tags: { ...d.tags, ...t.tags } };
    if (d.state === 'terminated' || d.state === 'shutting-down') gone.push(filled);
    else known.push({ ...filled, ...(d.launchTime ? { launchTime: d.launchTime } : {}) });
  }
  return { known, gone };
}

export type Decision =
  | { action: 'skip'; outcome: Extract<Outcome, 'out-of-scope' | 'exempt' | 'compliant'>; node: NodeIdentity; reason: string }
  | { action: 'remediate'; node: NodeIdentity; remediation: Remediation; violations: string[] };

/** evaluate (pure): scope, exemptions, then the policy. */
export function evaluate(i: KnownInstance, policy: Policy, s: ScopeConfig): Decision {
  const scope = decideScope(i.tags, s);
  if (scope.action !== 'enforce') return { action: 'skip', outcome: scope.action, node: scope.node, reason: scope.reason };
  const ev = evaluatePolicy(i.metadataOptions, policy);
  if (ev.compliant) return { action: 'skip', outcome: 'compliant', node: scope.node, reason: 'MetadataOptions meet the policy' };
  return {
    action: 'remediate',
    node: scope.node,
    remediation: planRemediation(i.metadataOptions, policy),
    violations: describeViolations(ev.violations),
  };
}

export interface InstanceFacts extends AuditFacts {
  node?: NodeIdentity;
}

/**
 * The AuditResource of one instance (pure): the same for its audit record and its queue item, so owner,
 * cluster and node group routing cannot differ between the direct and the queued path.
 *
 * @example
 * resourceOf({ instanceId: 'i-0abc', region: 'eu-west-1', account: '111122223333', eventTime: '', tags: { owner: 'a' } }, settings)
 * // { type: 'instance', id: 'i-0abc', ..., owner: 'a' }
 */
export function resourceOf(i: InstanceTarget & { tags?: Tags }, s: Settings, node?: NodeIdentity): AuditResource {
  const tags = i.tags ?? {};
  const { owner } = ownerOf(i, s);
  return {
    type: 'instance',
    id: i.instanceId,
    arn: arn(i.region, 'ec2', i.account, `instance/${i.instanceId}`),
    region: i.region,
    account: i.account,
    ...(node?.cluster ? { cluster: node.cluster } : {}),
    ...(node?.nodegroup ? { nodegroup: node.nodegroup } : {}),
    owner,
    ...(tags.Name ? { name: tags.Name } : {}),
  };
}

/** The owner and where it came from: the node group's, the cluster's or the instance's tags, in the OWNER_SOURCE order. */
export function ownerOf(i: { tags?: Tags; nodegroupTags?: Tags; clusterTags?: Tags }, s: Settings) {
  const tags = { instance: i.tags ?? {}, nodegroup: i.nodegroupTags ?? {}, cluster: i.clusterTags ?? {} };
  return resolveOwnerFrom(tags, s.ownerTagKeys, s.defaultOwner, s.ownerSource);
}

/** describe (pure): the audit record for one instance. */
export function describe(i: InstanceTarget & { tags?: Tags }, s: Settings, { node, ...f }: InstanceFacts): AuditRecord {
  return recordFor(resourceOf(i, s, node), { ...f, details: { ...f.details, ownerSource: ownerOf(i, s).ownerSource } });
}

export type RemediateResult =
  | { outcome: 'remediated'; after: MetadataOptions; requestId?: string }
  | { outcome: 'gone'; reason: string }
  | { outcome: 'failed'; error: { name: string; message: string }; requestId?: string };

/** remediate: one ModifyInstanceMetadataOptions call; the SDK retries throttling and pending state. */
export async function remediate(ec2: EC2Client, i: KnownInstance, r: Remediation): Promise<RemediateResult> {
  try {
    const res = await modifyMetadataOptions(ec2, i.instanceId, r);
    // The response echoes the new values while State is pending; fall back to our prediction.
    const predicted = applyRemediation(i.metadataOptions, r);
    return { outcome: 'remediated', after: { ...predicted, ...res.applied }, ...(res.requestId ? { requestId: res.requestId } : {}) };
  } catch (err) {
    const error = errorOf(err);
    if (error.name === 'InvalidInstanceID.NotFound') return { outcome: 'gone', reason: 'instance no longer exists (terminated)' };
    return { outcome: 'failed', error, ...withRequestId(err) };
  }
}

export interface AfterNotFoundOptions {
  retry: NotFoundRetry;
  /** Runs each call in the caller's concurrency pool; the waits stay outside it. */
  slot?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/**
 * For a fresh instance (the age rule) whose ModifyInstanceMetadataOptions answered NotFound: ask
 * DescribeInstances. Shown terminated or shutting-down, it is `gone` at once (a terminated instance stays
 * visible for about an hour). Otherwise EC2 has not caught up yet: wait (NotFoundRetry's schedule and
 * budget) and modify again. Call it outside any concurrency slot: it waits.
 */
export async function remediateAfterNotFound(
  ec2: EC2Client,
  i: KnownInstance,
  r: Remediation,
  first: RemediateResult,
  o: AfterNotFoundOptions,
): Promise<RemediateResult> {
  const slot = o.slot ?? ((fn) => fn());
  let res = first;
  let attempts = 1;
  for (let n = 0; res.outcome === 'gone'; n++) {
    const state = await slot(() => describeState(ec2, i.instanceId));
    if (state === 'terminated' || state === 'shutting-down')
      return { outcome: 'gone', reason: `instance terminated (DescribeInstances: ${state})` };
    if (!(await o.retry.wait(n))) {
      return {
        outcome: 'gone',
        reason:
          `instance still not found after ${attempts} attempts ` +
          "(launched recently: waited for EC2's eventual consistency); treated as terminated",
      };
    }
    res = await slot(() => remediate(ec2, i, r));
    attempts++;
  }
  return res;
}

/** The instance's state, 'not-found', or 'unknown' when Describe itself failed (the wait goes on). */
async function describeState(ec2: EC2Client, instanceId: string): Promise<string> {
  try {
    return (await describeInstances(ec2, [instanceId])).get(instanceId)?.state ?? 'not-found';
  } catch {
    return 'unknown';
  }
}
