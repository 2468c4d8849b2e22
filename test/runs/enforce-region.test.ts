// enforceRegion: a run nobody confirms applies each kind as soon as its own plan is in (no barrier between
// kinds), keeps `after` ordering, and never loses what one kind did when another fails. The kinds here are the
// registry's (types, order) with scripted sections, so the pipeline itself is what runs.
import { describe, expect, it } from 'vitest';
import { buildRecord, type AuditRecord, type ResourceType } from '../../lib/domain/audit.js';
import type { Outcome } from '../../lib/domain/audit-vocabulary.js';
import { KINDS } from '../../lib/kinds/index.js';
import type { BackfillScope, BackfillSection, RegisteredKind } from '../../lib/kinds/types.js';
import type { RegionDiscovery } from '../../lib/runs/discover.js';
import { enforceRegion } from '../../lib/runs/enforce-region.js';
import { applyRegion, planRegion } from '../../lib/runs/region.js';
import { instanceResource } from '../helpers/records.js';

const trigger = {
  source: 'backfill',
  eventName: 'Backfill',
  eventId: 'run-1',
  eventTime: '2026-12-02T00:00:00Z',
  actor: 'arn:aws:iam::111122223333:role/t',
  region: 'eu-west-1',
  account: '111122223333',
} as const;

const kind = (type: ResourceType) => KINDS.find((k) => k.type === type) as RegisteredKind;

function rec(type: ResourceType, id: string, outcome: Outcome, mode: 'dry-run' | 'enforce'): AuditRecord {
  return buildRecord({ mode, trigger: { ...trigger }, resource: { ...instanceResource(id, { owner: 'team' }), type }, outcome });
}

/** A promise the test settles by hand. */
function gate<T = void>() {
  let open!: (v: T) => void;
  let fail!: (e: unknown) => void;
  const p = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { p, open, fail };
}

/** A scripted section: its plan waits for `planGate` (when given); it logs every step to `log`. */
function section(
  type: ResourceType,
  log: string[],
  o: { planGate?: Promise<void>; planFails?: boolean; applyFails?: boolean; after?: ResourceType[] } = {},
): BackfillSection<string, string> {
  return {
    include: type,
    sortById: true,
    ...(o.after ? { after: o.after } : {}),
    discover: async () => ({ targets: [] }),
    async plan(targets) {
      await o.planGate;
      log.push(`plan ${type}`);
      if (o.planFails) throw Object.assign(new Error(`${type} plan broke`), { name: 'PlanBroke' });
      return { records: targets.map((t) => rec(type, t, 'would-remediate', 'dry-run')), ready: targets };
    },
    async apply(ready, s, earlier) {
      log.push(`apply ${type} after ${earlier.length} earlier`);
      if (o.applyFails) throw Object.assign(new Error(`${type} apply broke`), { name: 'ApplyBroke' });
      const records = ready.map((t) => rec(type, t, 'remediated', 'enforce'));
      // As the real sections do: each record reaches the scope's hook as it is decided.
      for (const r of records) s.record?.(r);
      return { records };
    },
  };
}

function discovery(
  found: { type: ResourceType; section: BackfillSection<string, string>; targets: string[]; rest?: () => Promise<{ targets: string[] }> }[],
): RegionDiscovery {
  return {
    region: 'eu-west-1',
    // The scripted sections read nothing from the scope.
    scope: {} as BackfillScope,
    found: found.map((f) => ({ kind: kind(f.type), section: f.section, targets: f.targets, ...(f.rest ? { rest: f.rest } : {}) })),
    clusters: [],
    notes: [],
    calls: { describeInstances: 0 },
  };
}

describe('enforceRegion (no barrier between kinds)', () => {
  it('instances change while launch templates are still being planned', async () => {
    const log: string[] = [];
    const templates = gate();
    const d = discovery([
      { type: 'launch-template', section: section('launch-template', log, { planGate: templates.p }), targets: ['lt-1'] },
      { type: 'instance', section: section('instance', log), targets: ['i-1', 'i-2'] },
    ]);
    const applied: string[] = [];
    const run = enforceRegion(d, { apply: { record: (r) => applied.push(r.resource.id) } });
    await new Promise((r) => setTimeout(r, 20));
    // The template plan is still open, and the instances are already changed.
    expect(log).toEqual(['plan instance', 'apply instance after 0 earlier']);
    expect(applied).toEqual(['i-1', 'i-2']);
    templates.open();
    const r = await run;
    expect(r.error).toBeUndefined();
    expect(r.applied.records.map((x) => `${x.resource.id}:${x.outcome}`)).toEqual(['lt-1:remediated', 'i-1:remediated', 'i-2:remediated']);
  });

  it('the barrier path (planRegion, then applyRegion) changes nothing before every kind is planned', async () => {
    const log: string[] = [];
    const templates = gate();
    const d = discovery([
      { type: 'launch-template', section: section('launch-template', log, { planGate: templates.p }), targets: ['lt-1'] },
      { type: 'instance', section: section('instance', log), targets: ['i-1'] },
    ]);
    const planned = planRegion(d);
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['plan instance']);
    templates.open();
    await applyRegion(await planned);
    expect(log.slice(2).sort()).toEqual(['apply instance after 0 earlier', 'apply launch-template after 0 earlier']);
  });

  it('a kind that comes after another applies only once that one has, and sees its records', async () => {
    const log: string[] = [];
    const templates = gate();
    const d = discovery([
      { type: 'launch-template', section: section('launch-template', log, { planGate: templates.p }), targets: ['lt-1', 'lt-2'] },
      { type: 'nodegroup', section: section('nodegroup', log, { after: ['launch-template'] }), targets: ['ng-1'] },
    ]);
    const run = enforceRegion(d);
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['plan nodegroup']);
    templates.open();
    await run;
    expect(log).toEqual([
      'plan nodegroup',
      'plan launch-template',
      'apply launch-template after 0 earlier',
      'apply nodegroup after 2 earlier',
    ]);
  });

  it('a kind whose plan fails: the error is returned and what the other kinds changed is kept', async () => {
    const log: string[] = [];
    const d = discovery([
      { type: 'launch-template', section: section('launch-template', log, { planFails: true }), targets: ['lt-1'] },
      { type: 'instance', section: section('instance', log), targets: ['i-1'] },
    ]);
    const r = await enforceRegion(d);
    expect((r.error as Error).name).toBe('PlanBroke');
    expect(r.applied.records.map((x) => `${x.resource.id}:${x.outcome}`)).toEqual(['i-1:remediated']);
    expect(r.plan.sections.map((s) => s.found.kind.type)).toEqual(['instance']);
  });

  it('a kind whose apply fails keeps its plan records (would-remediate), beside the others changed', async () => {
    const log: string[] = [];
    const d = discovery([
      { type: 'launch-template', section: section('launch-template', log, { applyFails: true }), targets: ['lt-1'] },
      { type: 'instance', section: section('instance', log), targets: ['i-1'] },
    ]);
    const r = await enforceRegion(d);
    expect((r.error as Error).name).toBe('ApplyBroke');
    expect(r.applied.records.map((x) => `${x.resource.id}:${x.outcome}`)).toEqual(['lt-1:would-remediate', 'i-1:remediated']);
  });

  it('planned fires once every kind is planned, with the would-change count of all of them', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    const d = discovery([
      { type: 'launch-template', section: section('launch-template', log), targets: ['lt-1'] },
      { type: 'instance', section: section('instance', log), targets: ['i-1', 'i-2'] },
    ]);
    await enforceRegion(d, { planned: (p) => seen.push(p.records.filter((x) => x.outcome === 'would-remediate').length) });
    expect(seen).toEqual([3]);
  });

  it('an early first part is changed before its rest is listed; the rest follows, and the report has both', async () => {
    const log: string[] = [];
    const d = discovery([
      {
        type: 'instance',
        section: section('instance', log),
        targets: ['i-1', 'i-2'],
        rest: async () => {
          log.push('list rest');
          return { targets: ['i-3'], describeCalls: 2 };
        },
      },
    ]);
    const totals: number[] = [];
    const r = await enforceRegion(d, { discovered: (n) => totals.push(n) });
    expect(log).toEqual([
      'plan instance',
      'apply instance after 0 earlier',
      'list rest',
      'plan instance',
      'apply instance after 0 earlier',
    ]);
    expect(totals).toEqual([3]);
    expect(r.discovery.calls.describeInstances).toBe(2);
    expect(r.applied.records.map((x) => `${x.resource.id}:${x.outcome}`)).toEqual(['i-1:remediated', 'i-2:remediated', 'i-3:remediated']);
  });

  it('a cut in the rest names the first part instances past it (handled), so the next link skips them', async () => {
    const log: string[] = [];
    const base = section('instance', log);
    const cutting: BackfillSection<string, string> = {
      ...base,
      async apply(ready, s, earlier, limits) {
        // The last part stops after its first instance, as a deadline between chunks would.
        if (limits.deadline === undefined) return (base.apply as NonNullable<typeof base.apply>)(ready, s, earlier, limits);
        const [one] = ready as [string];
        return {
          records: [rec('instance', one, 'remediated', 'enforce')],
          continuation: { afterInstanceId: one, remaining: ready.length - 1 },
        };
      },
    };
    const d = discovery([{ type: 'instance', section: cutting, targets: ['i-5', 'i-9'], rest: async () => ({ targets: ['i-1', 'i-7'] }) }]);
    const r = await enforceRegion(d, {}, { deadline: 0 });
    expect(r.applied.continuation).toEqual({ afterInstanceId: 'i-1', remaining: 1, handled: ['i-5', 'i-9'] });
    // i-7 belongs to the next link; i-5 and i-9 were changed here and stay in this link's records.
    expect(r.applied.records.map((x) => x.resource.id)).toEqual(['i-1', 'i-5', 'i-9']);
  });

  it('a kind that fails at once while another still plans: the error comes back in the result, never unhandled', async () => {
    const log: string[] = [];
    const slow = gate();
    setTimeout(() => slow.open(), 50);
    const d = discovery([
      { type: 'launch-template', section: section('launch-template', log, { planFails: true }), targets: ['lt-1'] },
      {
        type: 'nodegroup',
        section: section('nodegroup', log, { after: ['launch-template'] }),
        targets: [],
        rest: async () => ({ targets: ['ng-1'] }),
      },
      {
        type: 'instance',
        section: section('instance', log, { planGate: slow.p }),
        targets: ['i-1'],
        rest: async () => ({ targets: ['i-2'] }),
      },
    ]);
    const r = await enforceRegion(d);
    expect((r.error as Error).name).toBe('PlanBroke');
    // Node groups come after templates: with the templates failed they are not changed (a later run does it).
    expect(r.applied.records.map((x) => `${x.resource.id}:${x.outcome}`)).toEqual([
      'ng-1:would-remediate',
      'i-1:remediated',
      'i-2:remediated',
    ]);
  });
});
