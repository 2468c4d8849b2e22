// Wires the instance module's verbs together. Shared by the event handler and the backfill.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { NotFoundRetry, type NotFoundRetryOptions } from './aws.js';
import type { AuditRecord } from '../../domain/audit.js';
import type { Trigger } from '../../domain/cloudtrail.js';
import type { InstanceTarget } from './events.js';
import type { GatedPolicy } from '../../domain/identity.js';
import { applyRemediation, type MetadataOptions, type Remediation } from '../../domain/policy.js';
import { exemptionDetails, identifyNode, resolveOwner, type NodeIdentity, type Settings } from '../../domain/scope.js';
import * as instance from './instance.js';
import type { OwnerTagsFor } from '../../shell/owner-tags.js';
import type { PolicyFor } from '../../shell/identity.js';
import { errorOf } from '../../domain/errors.js';
import { logger } from '../../shell/observability.js';
import { enqueue } from './queue.js';
import { toQueueItem, type QueueItem } from './queue-item.js';

/** The remediation queue: instance changes are sent there instead of being made here. */
export interface RemediationQueue {
  sqs: SQSClient;
  url: string;
  /** The policy's ceiling (MAX_HOP_LIMIT): a queued change never sets a higher hop limit. */
  maxHopLimit: number;
}

export interface InstanceRun {
  ec2: EC2Client;
  mode: 'enforce' | 'dry-run';
  settings: Settings;
  concurrency: number;
  /**
   * Per-cluster policy: the identity gate may hold the hop limit, and adds notes for owners. With `base` set
   * (policyProvider sets it) it is asked only for an instance whose base plan lowers the hop limit.
   */
  policyFor: PolicyFor;
  /** Called after each instance is decided: audit log lines, progress bars, metrics. */
  onRecord?: (r: AuditRecord) => void;
  /** Tags to route an untagged node to its owner by (its managed node group's). */
  ownerTagsFor?: OwnerTagsFor;
  /**
   * The wait for freshly launched instances that EC2 does not show yet (eventual consistency); one budget
   * per call. Event handlers should pass `remainingMs: () => context.getRemainingTimeInMillis()`.
   */
  notFoundRetry?: NotFoundRetryOptions;
  /** Set (enforce mode): each change becomes a queue item; the consumer makes the Modify and its record. */
  queue?: RemediationQueue;
  /** Called for each item once SQS accepted it. */
  onQueued?: (item: QueueItem) => void;
}

interface Shared {
  run: InstanceRun;
  trigger: Trigger;
  emit: (r: AuditRecord) => void;
  isFresh: (t: { eventTime: string; launchTime?: string | undefined }) => boolean;
  retry: NotFoundRetry;
  limit: ReturnType<typeof pLimit>;
  /** Items to send, in the order decided. */
  queued: QueueItem[] | undefined;
}

/**
 * Find, evaluate and remediate (or, with `run.queue`, enqueue) the targets of one trigger.
 *
 * @example
 * const records = await enforceInstances(targets, trigger, { ...run, queue: { sqs, url, maxHopLimit: 1 } });
 */
export async function enforceInstances(targets: InstanceTarget[], trigger: Trigger, run: InstanceRun): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  const emit = (r: AuditRecord) => {
    records.push(r);
    run.onRecord?.(r);
  };
  const base = { trigger, mode: run.mode };
  // The age rule: only a recent launch's NotFound may be EC2 catching up; every other NotFound is `gone` at once.
  const isFresh = (t: { eventTime: string; launchTime?: string | undefined }) => instance.isFreshLaunch(t, trigger.eventName);
  const retry = new NotFoundRetry(run.notFoundRetry);

  let found: instance.FindResult;
  try {
    found = await instance.find(run.ec2, targets, { isFresh, retry });
  } catch (err) {
    // Describe failed even after the SDK's retries: every target still ends in a record.
    const error = errorOf(err);
    const facts = { ...base, outcome: 'failed' as const, error, reason: 'could not describe the instance' };
    for (const t of targets) emit(instance.describe(t, run.settings, facts));
    return records;
  }
  for (const t of found.gone) emit(await goneRecord(t, base, run));

  const queue = run.mode === 'enforce' ? run.queue : undefined;
  const shared: Shared = { run, trigger, emit, isFresh, retry, limit: pLimit(run.concurrency), queued: queue ? [] : undefined };
  await Promise.all(found.known.map((i) => enforceOne(i, shared)));
  if (queue && shared.queued?.length) await sendQueued(queue, shared.queued, run);
  return records;
}

async function enforceOne(i: instance.KnownInstance, s: Shared): Promise<void> {
  const { run, emit } = s;
  // The first attempt runs in the pool; a fresh instance's NotFound is settled outside it, because it waits.
  const after = await s.limit(async () => {
    const { gate, decision } = await decide(i, run);
    const subject = await withOwnerTags(i, decision.node, run);
    const facts = {
      trigger: s.trigger,
      mode: run.mode,
      node: decision.node,
      before: i.metadataOptions,
      notes: gate.notes,
      // Who set an exemption, when the event that set it is this one (CreateTags).
      details: { ...gate.details, ...exemptionDetails({ ...i, eventName: s.trigger.eventName }, run.settings) },
    };
    if (decision.action === 'skip') {
      emit(instance.describe(subject, run.settings, { ...facts, outcome: decision.outcome, reason: decision.reason, notes: [] }));
      return undefined;
    }
    const desired = applyRemediation(i.metadataOptions, decision.remediation);
    const change = { desired, violations: decision.violations };
    if (run.mode === 'dry-run') {
      const reason = 'dry run: no change made';
      emit(instance.describe(subject, run.settings, { ...facts, ...change, outcome: 'would-remediate', after: desired, reason }));
      return undefined;
    }
    if (s.queued && run.queue) {
      s.queued.push(queueItem(subject, decision, gate, s, run.queue));
      return undefined;
    }
    const first = await instance.remediate(run.ec2, i, decision.remediation);
    const record = (res: instance.RemediateResult) =>
      emit(
        instance.describe(subject, run.settings, {
          ...facts,
          ...change,
          ...res,
          ...(res.outcome === 'remediated' ? { after: res.after } : {}),
        }),
      );
    if (first.outcome === 'gone' && s.isFresh(i)) return { first, remediation: decision.remediation, record };
    record(first);
    return undefined;
  });
  if (after)
    after.record(await instance.remediateAfterNotFound(run.ec2, i, after.remediation, after.first, { retry: s.retry, slot: s.limit }));
}

/**
 * The decision and the policy it was made with. With the base policy known, the identity gate is asked only
 * when the base plan lowers the hop limit: a compliant, exempt, out-of-scope or tokens-only instance costs no
 * identity lookup.
 */
async function decide(i: instance.KnownInstance, run: InstanceRun): Promise<{ gate: GatedPolicy; decision: instance.Decision }> {
  const base = run.policyFor.base;
  if (base) {
    const planned = instance.evaluate(i, base, run.settings);
    if (planned.action === 'skip' || !lowersHopLimit(i.metadataOptions, planned.remediation)) {
      return { gate: { policy: base, notes: [] }, decision: planned };
    }
  }
  const gate = await run.policyFor(identifyNode(i.tags).cluster);
  return { gate, decision: instance.evaluate(i, gate.policy, run.settings) };
}

/** The change sets a hop limit below the current one (or where none is known). */
function lowersHopLimit(before: MetadataOptions, r: Remediation): boolean {
  return r.hopLimit !== undefined && (before.hopLimit === undefined || r.hopLimit < before.hopLimit);
}

function queueItem(
  subject: instance.KnownInstance,
  decision: Extract<instance.Decision, { action: 'remediate' }>,
  gate: GatedPolicy,
  s: Shared,
  queue: RemediationQueue,
): QueueItem {
  return toQueueItem({
    trigger: s.trigger,
    resource: instance.resourceOf(subject, s.run.settings, decision.node),
    before: subject.metadataOptions,
    remediation: decision.remediation,
    maxHopLimit: queue.maxHopLimit,
    violations: decision.violations,
    notes: gate.notes,
    details: { ...gate.details, ownerSource: instance.ownerOf(subject, s.run.settings).ownerSource },
  });
}

/** Send the items (10 per call, in order); a failure throws, so the invocation fails and is retried. */
async function sendQueued(queue: RemediationQueue, items: QueueItem[], run: InstanceRun): Promise<void> {
  await enqueue(queue.sqs, queue.url, items);
  for (const item of items) {
    logger.info('queued', { queued: { instance: item.resource.id, owner: item.resource.owner, change: item.change, id: item.id } });
    run.onQueued?.(item);
  }
}

/**
 * The instance with its managed node group's tags beside its own (EKS does not copy them to instances):
 * the owner comes from the node group first unless OWNER_SOURCE=instance-first and the instance names one.
 */
/** A gone instance's record. One still described (terminated) keeps its tags: its owner and cluster, as if live. */
async function goneRecord(
  t: InstanceTarget,
  base: { trigger: Trigger; mode: InstanceRun['mode'] },
  run: InstanceRun,
): Promise<AuditRecord> {
  const facts = { ...base, outcome: 'gone' as const, reason: 'instance not found (terminated)' };
  if (!t.tags || !t.metadataOptions) return instance.describe(t, run.settings, facts);
  const node = identifyNode(t.tags);
  const subject = await withOwnerTags(t as instance.KnownInstance, node, run);
  return instance.describe(subject, run.settings, { ...facts, node });
}

async function withOwnerTags(i: instance.KnownInstance, node: NodeIdentity, run: InstanceRun): Promise<instance.KnownInstance> {
  const instanceFirst = run.settings.ownerSource === 'instance-first';
  if (!run.ownerTagsFor || (instanceFirst && resolveOwner(i.tags, run.settings.ownerTagKeys, '') !== '')) return i;
  const tags = await run.ownerTagsFor(node);
  return { ...i, nodegroupTags: tags.nodegroup, clusterTags: tags.cluster };
}
