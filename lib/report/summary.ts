// Run summaries: counts, the exit code, and the one SNS summary message per run. Pure.
import {
  countByOutcome,
  OUTCOME_ORDER,
  severityOf,
  worstOutcome,
  type AuditRecord,
  type Outcome,
  type ResourceType,
} from '../domain/audit.js';
import { chatbotNotification } from './chatbot.js';
import { emailText } from './email.js';
import { snsMessage, type SnsMessage } from './sns-message.js';
import { leftNonCompliant, type FailOn } from './left.js';

const SUMMARY_SCHEMA = 'imds-guard.backfill-summary/v1' as const;

export type Counts = Partial<Record<Outcome, number>>;

export interface RegionSummary {
  region: string;
  /** The member account of an org-wide run's unit (unset: the run's own account). */
  account?: string;
  counts: Counts;
  byType: Partial<Record<ResourceType, Counts>>;
  /** Clusters whose pods may still rely on the node role (no IRSA, no Pod Identity). */
  identityNotReady: string[];
  accountDefaultsCompliant?: boolean;
  error?: { name: string; message: string };
  /** Lambda continuation links this Region took (1 = no continuation). */
  links?: number;
  /** Instance changes sent to the remediation queue (its consumer makes them and reports each). */
  queued?: number;
  /** A sweep: queued instances that launched more than SWEEP_MIN_AGE_MS before it started (their event was missed). */
  missedByEvents?: number;
  /** A sweep: queued instances younger than that, whose event may still be in flight. */
  inFlight?: number;
}

/** A node launched this long before a sweep should have been fixed by its event already. */
export const SWEEP_MIN_AGE_MS = 10 * 60_000;

/**
 * How a sweep's queued instances split by launch time: older than `minAgeMs` before the sweep started, events
 * missed them; younger ones may still have their event in flight. An unknown launch time counts as missed.
 *
 * @example
 * sweepCounts([{ launchTime: '2026-01-01T00:00:00Z' }], '2026-01-01T01:00:00Z'); // { queued: 1, missedByEvents: 1, inFlight: 0 }
 */
export function sweepCounts(
  queued: { launchTime?: string | undefined }[],
  sweepStartedAt: string,
  minAgeMs = SWEEP_MIN_AGE_MS,
): { queued: number; missedByEvents: number; inFlight: number } {
  const cutoff = Date.parse(sweepStartedAt) - minAgeMs;
  const young = queued.filter((q) => q.launchTime !== undefined && Date.parse(q.launchTime) > cutoff).length;
  return { queued: queued.length, missedByEvents: queued.length - young, inFlight: young };
}

/** The sentence a sweep's summary says about the nodes events missed. */
export function missedLine(r: Pick<RegionSummary, 'missedByEvents' | 'inFlight' | 'queued'>): string | undefined {
  if (r.missedByEvents !== undefined) {
    const young = r.inFlight ? ` (${r.inFlight} more launched in the last 10 minutes; their events may still arrive)` : '';
    return `${r.missedByEvents} nodes were non-compliant and missed by events; queued for remediation${young}`;
  }
  return r.queued ? `${r.queued} instance changes queued for remediation` : undefined;
}

export interface RunSummary {
  schema: typeof SUMMARY_SCHEMA;
  runId: string;
  mode: 'enforce' | 'dry-run';
  eventName: string;
  account: string;
  actor: string;
  startedAt: string;
  finishedAt: string;
  counts: Counts;
  regions: RegionSummary[];
}

export interface SummaryRegionInput {
  region: string;
  records: AuditRecord[];
  identity?: { cluster: string; irsa: boolean; podIdentityAgent: boolean; podIdentityAssociations: number }[];
  accountDefaults?: { posture: { compliant: boolean } };
  error?: { name: string; message: string };
}

export function countsByType(records: AuditRecord[]): Partial<Record<ResourceType, Counts>> {
  const out: Partial<Record<ResourceType, Counts>> = {};
  for (const r of records) {
    const c = out[r.resource.type] ?? {};
    c[r.outcome] = (c[r.outcome] ?? 0) + 1;
    out[r.resource.type] = c;
  }
  return out;
}

export function addCounts(a: Counts, b: Counts): Counts {
  const out: Counts = { ...a };
  for (const [k, v] of Object.entries(b) as [Outcome, number][]) out[k] = (out[k] ?? 0) + v;
  return out;
}

export function regionSummary(r: SummaryRegionInput): RegionSummary {
  return {
    region: r.region,
    counts: countByOutcome(r.records),
    byType: countsByType(r.records),
    identityNotReady: (r.identity ?? [])
      .filter((i) => !(i.irsa || (i.podIdentityAgent && i.podIdentityAssociations > 0)))
      .map((i) => i.cluster),
    ...(r.accountDefaults ? { accountDefaultsCompliant: r.accountDefaults.posture.compliant } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

export function summarize(
  run: { runId: string; eventName: string; account: string; actor: string; startedAt: string },
  mode: 'enforce' | 'dry-run',
  regions: RegionSummary[],
  finishedAt: string,
): RunSummary {
  return {
    schema: SUMMARY_SCHEMA,
    runId: run.runId,
    mode,
    eventName: run.eventName,
    account: run.account,
    actor: run.actor,
    startedAt: run.startedAt,
    finishedAt,
    counts: regions.reduce<Counts>((acc, r) => addCounts(acc, r.counts), {}),
    regions,
  };
}

/**
 * Exit codes (documented in docs/backfill.md):
 * - 2: a Region (or the whole run) failed: bad credentials, API errors after retries.
 * - 1: something in scope is still out of policy (leftNonCompliant: with `fixable`, only what imds-guard can fix).
 * - 0: otherwise.
 * @example
 * exitCode(result.regions, 'fixable'); // the pre-issue-15 behaviour: `reported` alone exits 0
 */
export function exitCode(regions: { records: AuditRecord[]; error?: unknown }[], failOn: FailOn = 'any'): 0 | 1 | 2 {
  if (regions.some((r) => r.error)) return 2;
  return regions.some((r) => r.records.some((x) => leftNonCompliant(x, failOn))) ? 1 : 0;
}

/**
 * The counts, most urgent outcome first, for titles and summary lines; `none` when all are zero.
 * @example
 * countsLine({ remediated: 2, failed: 1 }); // => '1 failed, 2 remediated'
 */
export function countsLine(c: Counts, none = 'nothing in scope'): string {
  const parts = OUTCOME_ORDER.filter((o) => c[o]).map((o) => `${c[o]} ${o}`);
  return parts.join(', ') || none;
}

/** The worst outcome that occurs in the counts (for attributes and titles). */
function worstOf(c: Counts): Outcome {
  return worstOutcome(
    Object.entries(c)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([o]) => ({ outcome: o as Outcome }) as AuditRecord),
  );
}

export interface SummaryMessage extends SnsMessage {
  owner: string;
  records: AuditRecord[];
}

/** A unit's name in a summary: `account/Region` in an org-wide run, else the Region. */
const where = (r: RegionSummary) => (r.account ? `${r.account}/${r.region}` : r.region);

function regionLines(r: RegionSummary): string[] {
  const links = r.links && r.links > 1 ? ` (${r.links} invocations)` : '';
  return [
    `${where(r)}: ${r.error ? `ERROR ${r.error.name}: ${r.error.message}` : countsLine(r.counts)}${links}`,
    ...Object.entries(r.byType).map(([t, c]) => `  ${t}: ${countsLine(c ?? {})}`),
    ...(missedLine(r) ? [`  ${missedLine(r)}`] : []),
    ...(r.identityNotReady.length ? [`  clusters without IRSA or Pod Identity: ${r.identityNotReady.join(', ')}`] : []),
    ...(r.accountDefaultsCompliant === false ? ['  account metadata defaults are not compliant: imds-guard account-defaults --apply'] : []),
  ];
}

function emailBody(s: RunSummary): string {
  return emailText({
    heading: `imds-guard ${s.eventName}${s.mode === 'dry-run' ? ' (dry run)' : ''} summary`,
    fields: [
      ['Run', s.runId],
      ['Actor', s.actor],
      ['Account', s.account],
      ['Started', `${s.startedAt}   Finished: ${s.finishedAt}`],
      ['Outcome', countsLine(s.counts)],
    ],
    labelWidth: 10,
    lines: s.regions.flatMap(regionLines),
    footer: ['Per-resource records were published to the owners and logged as audit lines.'],
  });
}

function chatbotBody(s: RunSummary) {
  const worst = worstOf(s.counts);
  const failed = worst === 'failed' || s.regions.some((r) => r.error);
  return chatbotNotification({
    id: `${s.runId}:summary`,
    title: `${failed ? ':x:' : ':shield:'} imds-guard ${s.eventName}${s.mode === 'dry-run' ? ' (dry run)' : ''}: ${countsLine(s.counts)}`,
    description: [
      `Run \`${s.runId}\` by \`${s.actor}\` in ${s.account}`,
      ...s.regions.map((r) => `• *${where(r)}*: ${r.error ? `error ${r.error.name}` : countsLine(r.counts)}`),
      ...s.regions.flatMap((r) => (missedLine(r) ? [`• *${where(r)}*: ${missedLine(r)}`] : [])),
    ],
    nextSteps: [
      ...(failed ? ['Check the failed Regions and resources in the imds-guard logs'] : []),
      ...(s.counts['would-remediate'] ? ['Run the backfill with mode "enforce" to apply'] : []),
      ...(s.regions.some((r) => r.identityNotReady.length)
        ? ['Set up IRSA or Pod Identity for the clusters listed before lowering their hop limit']
        : []),
    ],
    keywords: [worst, s.eventName, ...s.regions.map((r) => r.region)],
    threadId: `imds-guard-${s.runId}`,
    summary: `imds-guard ${s.eventName}: ${countsLine(s.counts)}`,
    additionalContext: { runId: s.runId, account: s.account },
  });
}

/**
 * The summary as an SNS message. Attribute `kind=summary` lets subscriptions that expect
 * per-resource audit messages (notify-slack) filter it out, or in.
 */
export function renderSummaryMessage(s: RunSummary, owner: string): SummaryMessage {
  const worst = s.regions.some((r) => r.error) ? 'failed' : worstOf(s.counts);
  const attributes = {
    kind: 'summary',
    outcome: worst,
    severity: severityOf(worst),
    owner,
    account: s.account,
    region: s.regions.length === 1 ? (s.regions[0]?.region ?? 'multiple') : 'multiple',
    eventName: s.eventName,
    resourceType: 'summary',
  };
  const subject = `imds-guard ${s.eventName} summary: ${countsLine(s.counts)}`;
  const bodies = { audit: JSON.stringify(s), email: emailBody(s), chatbot: chatbotBody(s) };
  return { owner, records: [], ...snsMessage(subject, bodies, attributes) };
}
