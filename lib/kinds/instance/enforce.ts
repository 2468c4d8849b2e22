// Wires the instance module's verbs together. Shared by the event handler and the backfill.
import type { EC2Client } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { NotFoundRetry, type NotFoundRetryOptions } from './aws.js';
import type { AuditRecord } from '../../domain/audit.js';
import type { Trigger } from '../../domain/cloudtrail.js';
import type { InstanceTarget } from './events.js';
import { applyRemediation, type Policy } from '../../domain/policy.js';
import { identifyNode, resolveOwner, type NodeIdentity, type Settings } from '../../domain/scope.js';
import * as instance from './instance.js';
import type { OwnerTagsFor } from '../../shell/owner-tags.js';
import { errorOf } from '../../domain/errors.js';

export interface InstanceRun {
  ec2: EC2Client;
  mode: 'enforce' | 'dry-run';
  settings: Settings;
  concurrency: number;
  /** Per-cluster policy: the identity gate may hold the hop limit, and adds notes for owners. */
  policyFor: (cluster: string | undefined) => Promise<{ policy: Policy; notes: string[]; details?: Record<string, unknown> }>;
  /** Called after each instance is decided: progress bars, metrics. */
  onRecord?: (r: AuditRecord) => void;
  /** Tags to route an untagged node to its owner by (its managed node group's). */
  ownerTagsFor?: OwnerTagsFor;
  /**
   * The wait for freshly launched instances that EC2 does not show yet (eventual consistency); one budget
   * per call. Event handlers should pass `remainingMs: () => context.getRemainingTimeInMillis()`.
   */
  notFoundRetry?: NotFoundRetryOptions;
  queue?: { sqs: import('@aws-sdk/client-sqs').SQSClient; url: string; maxHopLimit: number };
  onQueued?: (item: import('./queue-item.js').QueueItem) => void;
}

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
    for (const t of targets)
      emit(
        instance.describe(t, run.settings, {
          ...base,
          outcome: 'failed',
          error,
          reason: 'could not describe the instance',
        }),
      );
    return records;
  }
  for (const t of found.gone)
    emit(instance.describe(t, run.settings, { ...base, outcome: 'gone', reason: 'instance not found (terminated)' }));

  const limit = pLimit(run.concurrency);
  await Promise.all(
    found.known.map(async (i) => {
      // The first attempt runs in the pool; a fresh instance's NotFound is settled outside it, because it waits.
      const after = await limit(async () => {
        const gate = await run.policyFor(identifyNode(i.tags).cluster);
        const decision = instance.evaluate(i, gate.policy, run.settings);
        const subject = await withOwnerTags(i, decision.node, run);
        const facts = {
          ...base,
          node: decision.node,
          before: i.metadataOptions,
          notes: gate.notes,
          ...(gate.details ? { details: gate.details } : {}),
        };
        if (decision.action === 'skip') {
          emit(instance.describe(subject, run.settings, { ...facts, outcome: decision.outcome, reason: decision.reason, notes: [] }));
          return;
        }
        const desired = applyRemediation(i.metadataOptions, decision.remediation);
        if (run.mode === 'dry-run') {
          emit(
            instance.describe(subject, run.settings, {
              ...facts,
              outcome: 'would-remediate',
              desired,
              after: desired,
              violations: decision.violations,
              reason: 'dry run: no change made',
            }),
          );
          return;
        }
        const first = await instance.remediate(run.ec2, i, decision.remediation);
        const record = (res: instance.RemediateResult) =>
          emit(
            instance.describe(subject, run.settings, {
              ...facts,
              desired,
              violations: decision.violations,
              ...res,
              ...(res.outcome === 'remediated' ? { after: res.after } : {}),
            }),
          );
        if (first.outcome === 'gone' && isFresh(i)) return { first, remediation: decision.remediation, record };
        record(first);
        return undefined;
      });
      if (after) after.record(await instance.remediateAfterNotFound(run.ec2, i, after.remediation, after.first, { retry, slot: limit }));
    }),
  );
  return records;
}

/** The instance with its node group's tags underneath its own, when it names no owner itself. */
async function withOwnerTags(i: instance.KnownInstance, node: NodeIdentity, run: InstanceRun): Promise<instance.KnownInstance> {
  if (!run.ownerTagsFor || resolveOwner(i.tags, run.settings.ownerTagKeys, '') !== '') return i;
  return { ...i, tags: { ...(await run.ownerTagsFor(node)), ...i.tags } };
}
