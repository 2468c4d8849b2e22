// `imds-guard revert`: put instances back to the MetadataOptions an audit recorded as `before`.
// This is the one place imds-guard may set HttpTokens=optional, on purpose. Every call sends
// HttpTokens AND the hop limit (and HttpEndpoint when recorded): an omitted HttpTokens would mean
// optional, an omitted hop limit would keep the current one, and neither is "exactly before".
import { ModifyInstanceMetadataOptionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { describeInstances, type DescribedInstance } from '../kinds/instance/aws.js';
import type { RateLimiter } from '../shell/rate-limit.js';
import type { Config } from '../shell/config.js';
import { recordFor, type AuditFacts, type AuditRecord } from '../domain/audit.js';
import type { MetadataOptions } from '../domain/policy.js';
import type { Trigger } from '../domain/cloudtrail.js';
import { identifyNode } from '../domain/scope.js';
import * as instance from '../kinds/instance/instance.js';
import { backfillContext, triggerFor, type BackfillContext, type RunInfo } from './context.js';
import type { BackfillResult, RegionResult } from './run.js';
import { errorOf } from '../domain/errors.js';

export { parseAuditInput, RevertInputError } from './revert-input.js';
import { RevertInputError } from './revert-input.js';

export interface RevertItem {
  instanceId: string;
  region: string;
  /** Exactly what to send back: tokens and hop limit always, endpoint when it was recorded. */
  restore: MetadataOptions & { httpTokens: 'optional' | 'required'; hopLimit: number };
  /** The audit record being reverted (absent for --instances). */
  source?: AuditRecord;
}

export interface Skipped {
  id: string;
  reason: string;
}

function restoreOf(before: MetadataOptions | undefined): RevertItem['restore'] | undefined {
  if (!before?.httpTokens || before.hopLimit === undefined) return undefined;
  return {
    httpTokens: before.httpTokens,
    hopLimit: before.hopLimit,
    ...(before.httpEndpoint ? { httpEndpoint: before.httpEndpoint } : {}),
  };
}

/** Which records a revert acts on: instance records with outcome `remediated` and a full `before`. */
export function selectReverts(records: AuditRecord[], account?: string): { items: RevertItem[]; skipped: Skipped[] } {
  const items: RevertItem[] = [];
  const skipped: Skipped[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    const id = r.resource.id;
    // Only changes imds-guard made: never a dry run's, never a revert's (reverting a revert is `enforce`).
    if (r.outcome !== 'remediated' || r.mode !== 'enforce') continue;
    if (r.resource.type !== 'instance') {
      const d = r.details as { sourceVersion?: number; madeDefault?: boolean } | undefined;
      const hint =
        r.resource.type === 'launch-template' && d?.madeDefault && d.sourceVersion
          ? `: aws ec2 modify-launch-template --region ${r.resource.region} --launch-template-id ${id} --default-version ${d.sourceVersion}`
          : '';
      skipped.push({ id, reason: `${r.resource.type} changes are not reverted automatically${hint}` });
      continue;
    }
    if (account && r.resource.account !== account) {
      skipped.push({ id, reason: `recorded in account ${r.resource.account}, but the credentials are for ${account}` });
      continue;
    }
    const restore = restoreOf(r.before);
    if (!restore) {
      skipped.push({ id, reason: 'the record has no complete "before" (HttpTokens and hop limit)' });
      continue;
    }
    if (seen.has(`${r.resource.region}/${id}`)) {
      // The first record holds the oldest state: later ones were imds-guard's own re-fixes.
      skipped.push({ id, reason: 'a later record for the same instance (the first one is reverted)' });
      continue;
    }
    seen.add(`${r.resource.region}/${id}`);
    items.push({ instanceId: id, region: r.resource.region, restore, source: r });
  }
  return { items, skipped };
}

/** `tokens=optional,hop=2[,endpoint=enabled]` for `revert --instances`. */
export function parseBeforeSpec(spec: string): RevertItem['restore'] {
  const out: Partial<RevertItem['restore']> = {};
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [k, v] = part.split('=').map((x) => x?.trim());
    if (k === 'tokens' && (v === 'optional' || v === 'required')) out.httpTokens = v;
    else if ((k === 'hop' || k === 'hop-limit') && v && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 64) out.hopLimit = Number(v);
    else if (k === 'endpoint' && (v === 'enabled' || v === 'disabled')) out.httpEndpoint = v;
    else
      throw new RevertInputError(
        `--before: cannot read "${part}" (expected tokens=optional|required, hop=1..64, endpoint=enabled|disabled)`,
      );
  }
  if (!out.httpTokens || out.hopLimit === undefined)
    throw new RevertInputError('--before must give both tokens=… and hop=… (revert sends both, exactly)');
  return out as RevertItem['restore'];
}

export function itemsFromIds(ids: string[], region: string, restore: RevertItem['restore']): RevertItem[] {
  for (const id of ids) if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw new RevertInputError(`--instances: "${id}" is not an instance ID`);
  return [...new Set(ids)].map((instanceId) => ({ instanceId, region, restore }));
}

async function restore(ec2: EC2Client, id: string, o: RevertItem['restore']): Promise<{ requestId?: string }> {
  const out = await ec2.send(
    new ModifyInstanceMetadataOptionsCommand({
      InstanceId: id,
      HttpTokens: o.httpTokens,
      HttpPutResponseHopLimit: o.hopLimit,
      ...(o.httpEndpoint ? { HttpEndpoint: o.httpEndpoint } : {}),
    }),
  );
  return out.$metadata?.requestId ? { requestId: out.$metadata.requestId } : {};
}

const REVERT_NOTE =
  'The enforce-instances function re-remediates on the ModifyInstanceMetadataOptions event unless the instance is exempt ' +
  '(tag imds-guard:exempt=true) or the caller is one of its SELF_ROLE_NAMES.';

export async function revertRun(input: {
  config: Config;
  items: RevertItem[];
  run: RunInfo;
  dryRun: boolean;
  limiter?: RateLimiter;
  context?: (region: string) => BackfillContext;
  onRecord?: (region: string, r: AuditRecord) => void;
}): Promise<BackfillResult> {
  const { config, run } = input;
  const mode = input.dryRun ? 'dry-run' : 'enforce';
  const contextFor = input.context ?? ((region: string) => backfillContext(config, region, input.limiter));
  const byRegion = new Map<string, RevertItem[]>();
  for (const i of input.items) byRegion.set(i.region, [...(byRegion.get(i.region) ?? []), i]);

  const one = async (region: string, items: RevertItem[]): Promise<RegionResult> => {
    const started = performance.now();
    const base = { region, identity: [], notes: [], calls: { describeInstances: 0 } };
    try {
      const ctx = contextFor(region);
      const trigger = triggerFor(run, region);
      const current = await describeInstances(
        ctx.clients.ec2,
        items.map((i) => i.instanceId),
      );
      const limit = pLimit(config.CONCURRENCY);
      const records = await Promise.all(
        items.map((item) =>
          limit(() => revertItem({ ctx, trigger, mode, region, onRecord: input.onRecord }, item, current.get(item.instanceId))),
        ),
      );
      return { ...base, records, durationMs: Math.round(performance.now() - started) };
    } catch (err) {
      return { ...base, records: [], error: errorOf(err), durationMs: Math.round(performance.now() - started) };
    }
  };

  const regions = await Promise.all([...byRegion.entries()].map(([r, items]) => one(r, items)));
  return { run, mode, regions, finishedAt: new Date().toISOString(), ...(input.limiter ? { rateLimit: input.limiter.stats() } : {}) };
}

type RevertScope = { ctx: BackfillContext; trigger: Trigger; mode: 'dry-run' | 'enforce'; region: string } & {
  onRecord?: ((region: string, r: AuditRecord) => void) | undefined;
};

/** Restore one instance (or say why not); `d` is what DescribeInstances returned for it. */
async function revertItem(s: RevertScope, item: RevertItem, d: DescribedInstance | undefined): Promise<AuditRecord> {
  const { ctx, trigger, mode, region, onRecord } = s;
  const tags = d?.tags ?? {};
  const facts: AuditFacts = {
    trigger,
    mode,
    outcome: 'failed',
    ...(d ? { before: d.metadataOptions } : item.source?.after ? { before: item.source.after } : {}),
    desired: item.restore,
    details: { revert: true, ...(item.source ? { revertOf: item.source.id } : {}) },
  };
  const make = (f: AuditFacts) => {
    const { account, actor, eventId, eventTime } = trigger;
    const subject = { instanceId: item.instanceId, region, account, tags, actor, eventId, eventTime };
    const r = item.source
      ? recordFor(item.source.resource, f)
      : instance.describe(subject, ctx.settings, { ...f, node: identifyNode(tags) });
    onRecord?.(region, r);
    return r;
  };
  if (!d || d.state === 'terminated' || d.state === 'shutting-down')
    return make({ ...facts, outcome: 'gone', reason: 'instance not found (terminated)' });
  if (mode === 'dry-run')
    return make({
      ...facts,
      outcome: 'would-remediate',
      after: { ...d.metadataOptions, ...item.restore },
      reason: 'dry run: would restore the recorded options',
    });
  try {
    const res = await restore(ctx.clients.ec2, item.instanceId, item.restore);
    return make({
      ...facts,
      outcome: 'reverted',
      after: { ...d.metadataOptions, ...item.restore },
      ...res,
      reason: 'reverted to the recorded "before" options on request',
      notes: [REVERT_NOTE],
    });
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e.name === 'InvalidInstanceID.NotFound')
      return make({ ...facts, outcome: 'gone', reason: 'instance no longer exists (terminated)' });
    const error = { name: e.name ?? 'Error', message: e.message ?? String(err) };
    return make({ ...facts, error, reason: 'could not restore the recorded options' });
  }
}
