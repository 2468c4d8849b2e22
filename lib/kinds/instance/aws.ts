// EC2 effects for instances: describe in batches, modify MetadataOptions.
import { DescribeInstancesCommand, ModifyInstanceMetadataOptionsCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { toMetadataOptions, type MetadataOptions, type Remediation } from '../../domain/policy.js';
import { toTags, type Tags } from '../../domain/tags.js';

export interface DescribedInstance {
  instanceId: string;
  state: string;
  metadataOptions: MetadataOptions;
  tags: Tags;
  launchTemplateId?: string;
  /** ISO time; feeds the fresh-launch rule (EC2 eventual consistency). */
  launchTime?: string;
}

const DESCRIBE_BATCH = 1000;

export function fromSdkInstance(i: Instance): DescribedInstance {
  if (!i.InstanceId) throw new Error('invariant: EC2 described an instance without an InstanceId');
  const tags = toTags(i.Tags);
  return {
    instanceId: i.InstanceId,
    state: i.State?.Name ?? 'unknown',
    metadataOptions: toMetadataOptions(i.MetadataOptions as Record<string, unknown>) ?? {},
    tags,
    ...(tags['aws:ec2launchtemplate:id'] ? { launchTemplateId: tags['aws:ec2launchtemplate:id'] } : {}),
    ...(i.LaunchTime ? { launchTime: new Date(i.LaunchTime).toISOString() } : {}),
  };
}

// --- EC2 eventual consistency ------------------------------------------------------------------
// Right after RunInstances/CreateFleet, DescribeInstances and ModifyInstanceMetadataOptions may answer
// InvalidInstanceID.NotFound for a new ID for a few seconds (AWS: "Eventual consistency in the Amazon EC2
// API"). Callers decide which IDs are fresh enough to deserve a wait (resources/instance.ts: the age rule);
// this is the bounded wait itself. The SDK's retry strategy does not fit: it cannot tell a fresh ID from a
// terminated one, cannot drop the old IDs from a Describe batch, and its backoff (100 ms base, ~3 s over
// 6 attempts) is shorter than the lag while it would spend the client's shared retry quota.

/** Waits before retry 1, 2, ...: 27 s in all, under the 30 s budget (which leaves room for the calls). */
export const NOT_FOUND_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 12_000];
/** The most one invocation spends waiting for fresh IDs, whatever their number. */
export const NOT_FOUND_BUDGET_MS = 30_000;
/** Kept free before the invocation's deadline, for the report and publish that follow. */
const NOT_FOUND_RESERVE_MS = 15_000;

export interface NotFoundRetryOptions {
  delaysMs?: readonly number[];
  budgetMs?: number;
  /** Time left in the invocation (Lambda's getRemainingTimeInMillis), when known. */
  remainingMs?: () => number;
  reserveMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * One per invocation: every wait for a fresh ID draws on the same budget, so a thousand fresh IDs cost at
 * most `budgetMs` of waiting, not a thousand times that. Waits run outside any concurrency slot.
 */
export class NotFoundRetry {
  readonly delaysMs: readonly number[];
  private readonly until: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  constructor(private readonly o: NotFoundRetryOptions = {}) {
    this.delaysMs = o.delaysMs ?? NOT_FOUND_RETRY_DELAYS_MS;
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.until = this.now() + (o.budgetMs ?? NOT_FOUND_BUDGET_MS);
  }

  /** Waits before retry number `n` (0-based). False, at once, when the schedule, the budget or the invocation's time is spent. */
  async wait(n: number): Promise<boolean> {
    const delay = this.delaysMs[n];
    if (delay === undefined) return false;
    const now = this.now();
    let until = this.until;
    if (this.o.remainingMs) until = Math.min(until, now + this.o.remainingMs() - (this.o.reserveMs ?? NOT_FOUND_RESERVE_MS));
    if (now + delay > until) return false;
    await this.sleep(delay);
    return true;
  }
}

export interface DescribeOptions {
  /** IDs that may answer NotFound only because they are new: described again after a wait. */
  isFresh?: (instanceId: string) => boolean;
  retry?: NotFoundRetry;
}

const NOT_FOUND_IDS = /i-[0-9a-f]{8,17}/g;

/**
 * Describe instances by ID, at most 1000 per call (the API's limit). A terminated ID fails the whole
 * call with InvalidInstanceID.NotFound, so the IDs it names are dropped and the batch is retried.
 * Dropped IDs that `isFresh` accepts are described again after the retry's waits (EC2's eventual
 * consistency); the others are absent from the result at once. A terminated instance stays visible
 * (state `terminated`) for about an hour, so a fresh ID that really ended does not wait.
 */
export async function describeInstances(
  ec2: EC2Client,
  ids: string[],
  opts: DescribeOptions = {},
): Promise<Map<string, DescribedInstance>> {
  const found = new Map<string, DescribedInstance>();
  let todo = ids;
  for (let n = 0; ; n++) {
    const unseen = await describeOnce(ec2, todo, found);
    const { isFresh, retry } = opts;
    todo = isFresh && retry ? unseen.filter(isFresh) : [];
    if (todo.length === 0 || !retry || !(await retry.wait(n))) return found;
  }
}

/** One pass over `ids`; fills `found` and returns the IDs that answered NotFound. */
async function describeOnce(ec2: EC2Client, ids: string[], found: Map<string, DescribedInstance>): Promise<string[]> {
  const unseen: string[] = [];
  for (let i = 0; i < ids.length; i += DESCRIBE_BATCH) {
    let batch = ids.slice(i, i + DESCRIBE_BATCH);
    while (batch.length > 0) {
      try {
        let token: string | undefined;
        do {
          const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: batch, NextToken: token }));
          for (const r of out.Reservations ?? [])
            for (const inst of r.Instances ?? []) {
              const described = fromSdkInstance(inst);
              found.set(described.instanceId, described);
            }
          token = out.NextToken;
        } while (token);
        break;
      } catch (err) {
        const e = err as { name?: string; message?: string };
        if (e.name !== 'InvalidInstanceID.NotFound') throw err;
        const missing = new Set(e.message?.match(NOT_FOUND_IDS) ?? []);
        const next = batch.filter((id) => !missing.has(id));
        if (missing.size === 0 || next.length === batch.length) {
          unseen.push(...batch); // cannot tell which: treat the batch as not found
          break;
        }
        unseen.push(...batch.filter((id) => missing.has(id)));
        batch = next;
      }
    }
  }
  return unseen;
}

export interface ModifyResult {
  requestId?: string;
  state?: string;
  applied: MetadataOptions;
}

/** One call, both policy fields. HttpTokens is always sent: omitted means optional (REFERENCE §1). */
export async function modifyMetadataOptions(ec2: EC2Client, instanceId: string, r: Remediation): Promise<ModifyResult> {
  const out = await ec2.send(
    new ModifyInstanceMetadataOptionsCommand({
      InstanceId: instanceId,
      HttpTokens: r.httpTokens,
      ...(r.hopLimit !== undefined ? { HttpPutResponseHopLimit: r.hopLimit } : {}),
    }),
  );
  const opts = out.InstanceMetadataOptions as Record<string, unknown> | undefined;
  return {
    ...(out.$metadata?.requestId ? { requestId: out.$metadata.requestId } : {}),
    ...(out.InstanceMetadataOptions?.State ? { state: out.InstanceMetadataOptions.State } : {}),
    applied: toMetadataOptions(opts) ?? {},
  };
}
