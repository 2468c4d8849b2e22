// What the HTML report draws, computed from audit records: compliance per Region and per cluster, the trend
// over time, and the list of what owners must act on. Pure.
import type { AuditRecord } from '../domain/audit.js';
import type { Outcome } from '../domain/audit-vocabulary.js';

/** How a record counts towards compliance: fixed or fine, still open, or deliberately left (exempt). */
type Standing = 'compliant' | 'open' | 'exempt';

const STANDING: Partial<Record<Outcome, Standing>> = {
  compliant: 'compliant',
  remediated: 'compliant',
  'would-remediate': 'open',
  reported: 'open',
  failed: 'open',
  reverted: 'open',
  exempt: 'exempt',
};

/** The standing of an outcome; undefined for outcomes that do not count (gone, out-of-scope). */
function standingOf(outcome: Outcome): Standing | undefined {
  return STANDING[outcome];
}

export interface Bar {
  label: string;
  compliant: number;
  open: number;
  exempt: number;
}

function bars(records: readonly AuditRecord[], key: (r: AuditRecord) => string | undefined): Bar[] {
  const out = new Map<string, Bar>();
  for (const r of records) {
    const label = key(r);
    const s = standingOf(r.outcome);
    if (label === undefined || !s) continue;
    const b = out.get(label) ?? { label, compliant: 0, open: 0, exempt: 0 };
    b[s] += 1;
    out.set(label, b);
  }
  return [...out.values()].sort((a, b) => b.open - a.open || a.label.localeCompare(b.label));
}

/**
 * Counts per Region and per cluster (`region/cluster`; resources without a cluster are left out of the latter).
 *
 * @example
 * complianceBars(records).regions[0]; // { label: 'eu-west-1', compliant: 2, open: 9, exempt: 1 }
 */
export function complianceBars(records: readonly AuditRecord[]): { regions: Bar[]; clusters: Bar[] } {
  return {
    regions: bars(records, (r) => r.resource.region),
    clusters: bars(records, (r) => (r.resource.cluster ? `${r.resource.region}/${r.resource.cluster}` : undefined)),
  };
}

export interface TrendPoint {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  compliant: number;
  open: number;
}

const resourceKey = (r: AuditRecord) => `${r.resource.region}|${r.resource.type}|${r.resource.id}`;

/**
 * Per UTC day, the standing of every resource seen so far by its latest record up to the end of that day.
 *
 * @example
 * complianceTrend(records); // [{ day: '2026-11-30', compliant: 3, open: 8 }, { day: '2026-12-01', compliant: 11, open: 0 }]
 */
export function complianceTrend(records: readonly AuditRecord[]): TrendPoint[] {
  const sorted = [...records].sort((a, b) => a.time.localeCompare(b.time));
  const latest = new Map<string, Standing>();
  const points: TrendPoint[] = [];
  const close = (day: string) => {
    const v = [...latest.values()];
    points.push({ day, compliant: v.filter((s) => s === 'compliant').length, open: v.filter((s) => s === 'open').length });
  };
  let day: string | undefined;
  for (const r of sorted) {
    const d = r.time.slice(0, 10);
    if (day !== undefined && d !== day) close(day);
    day = d;
    const s = standingOf(r.outcome);
    if (s) latest.set(resourceKey(r), s);
  }
  if (day !== undefined) close(day);
  return points;
}

export interface OwnerAction {
  owner: string;
  region: string;
  type: string;
  id: string;
  cluster?: string;
  outcome: Outcome;
  why: string;
}

/** Outcomes imds-guard does not fix on its own: the owner has to do something. */
const OWNER_MUST_ACT: readonly Outcome[] = ['reported', 'failed', 'reverted'];

/**
 * What owners must act on (reported by design, failed, reverted), grouped by owner.
 *
 * @example
 * ownerActions(records)[0]; // { owner: 'platform-team', type: 'nodegroup', id: 'payments-default', outcome: 'reported', why: '…' }
 */
export function ownerActions(records: readonly AuditRecord[]): OwnerAction[] {
  return records
    .filter((r) => OWNER_MUST_ACT.includes(r.outcome))
    .map((r) => ({
      owner: r.resource.owner,
      region: r.resource.region,
      type: r.resource.type,
      id: r.resource.id,
      ...(r.resource.cluster ? { cluster: r.resource.cluster } : {}),
      outcome: r.outcome,
      why: r.error ? `${r.error.name}: ${r.error.message}` : (r.reason ?? ''),
    }))
    .sort((a, b) => a.owner.localeCompare(b.owner) || a.region.localeCompare(b.region) || a.id.localeCompare(b.id));
}
