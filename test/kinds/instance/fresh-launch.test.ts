// The age rule and the bounded wait for instances EC2 does not show yet (eventual consistency after a launch).
import { DescribeInstancesCommand, ModifyInstanceMetadataOptionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { describeInstances, NOT_FOUND_BUDGET_MS, NOT_FOUND_RETRY_DELAYS_MS, NotFoundRetry } from '../../../lib/kinds/instance/aws.js';
import type { Trigger } from '../../../lib/domain/cloudtrail.js';
import type { InstanceTarget } from '../../../lib/kinds/instance/events.js';
import { enforceInstances } from '../../../lib/kinds/instance/enforce.js';
import { FRESH_LAUNCH_MS, isFreshLaunch, remediateAfterNotFound, type KnownInstance } from '../../../lib/kinds/instance/instance.js';

const NOW = Date.parse('2026-11-20T10:15:30Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe('the age rule (isFreshLaunch)', () => {
  it('a launch event within 5 minutes is fresh; older is not', () => {
    expect(FRESH_LAUNCH_MS).toBe(300_000);
    for (const name of ['RunInstances', 'CreateFleet']) {
      expect(isFreshLaunch({ eventTime: ago(0) }, name, NOW), name).toBe(true);
      expect(isFreshLaunch({ eventTime: ago(4 * 60_000 + 59_000) }, name, NOW), name).toBe(true);
      expect(isFreshLaunch({ eventTime: ago(FRESH_LAUNCH_MS) }, name, NOW), name).toBe(false);
      expect(isFreshLaunch({ eventTime: ago(60 * 60_000) }, name, NOW), name).toBe(false);
    }
  });

  it("a drift event's or a backfill's time is not a launch time: only LaunchTime counts there", () => {
    for (const name of ['ModifyInstanceMetadataOptions', 'Enforce', 'Backfill']) {
      expect(isFreshLaunch({ eventTime: ago(1_000) }, name, NOW), name).toBe(false);
      expect(isFreshLaunch({ eventTime: ago(1_000), launchTime: ago(90_000) }, name, NOW), name).toBe(true);
      expect(isFreshLaunch({ eventTime: ago(1_000), launchTime: ago(30 * 24 * 3600_000) }, name, NOW), name).toBe(false);
    }
  });

  it('either time suffices; bad or far-future times are not fresh', () => {
    expect(isFreshLaunch({ eventTime: ago(3600_000), launchTime: ago(10_000) }, 'RunInstances', NOW)).toBe(true);
    expect(isFreshLaunch({ eventTime: 'yesterday' }, 'RunInstances', NOW)).toBe(false);
    expect(isFreshLaunch({ eventTime: ago(-30_000) }, 'RunInstances', NOW)).toBe(true); // small clock skew
    expect(isFreshLaunch({ eventTime: ago(-24 * 3600_000) }, 'RunInstances', NOW)).toBe(false);
  });
});

/** A clock that only moves when the code under test sleeps. */
function fakeTime(start = NOW) {
  const t = { now: start, slept: [] as number[] };
  return {
    t,
    now: () => t.now,
    sleep: async (ms: number) => {
      t.slept.push(ms);
      t.now += ms;
    },
  };
}

describe('NotFoundRetry: bounded schedule, one budget per invocation', () => {
  it('waits 1, 2, 4, 8, 12 s, then stops: under the 30 s budget', async () => {
    const f = fakeTime();
    const r = new NotFoundRetry({ now: f.now, sleep: f.sleep });
    let n = 0;
    while (await r.wait(n)) n++;
    expect(f.t.slept).toEqual([...NOT_FOUND_RETRY_DELAYS_MS]);
    expect(f.t.slept.reduce((a, b) => a + b)).toBeLessThanOrEqual(NOT_FOUND_BUDGET_MS);
  });

  it('the budget is shared: a wait that would end after it is not started', async () => {
    const f = fakeTime();
    const r = new NotFoundRetry({ now: f.now, sleep: f.sleep });
    f.t.now += 25_000; // other instances already waited (or calls took) 25 s
    expect(await r.wait(0)).toBe(true);
    expect(await r.wait(1)).toBe(true);
    expect(await r.wait(2)).toBe(false); // 28 s + 4 s > 30 s
  });

  it("respects the invocation's deadline, keeping a reserve", async () => {
    const f = fakeTime();
    const r = new NotFoundRetry({ now: f.now, sleep: f.sleep, remainingMs: () => 17_500 - (f.t.now - NOW), reserveMs: 15_000 });
    expect(await r.wait(0)).toBe(true); // 1 s of 2.5 s
    expect(await r.wait(1)).toBe(false);
    expect(f.t.slept).toEqual([1_000]);
  });
});

// A scripted EC2: IDs in `invisible` answer NotFound for their first N calls; `states` is what exists.
const notFound = (ids: string[]) =>
  Object.assign(
    new Error(ids.length === 1 ? `The instance ID '${ids[0]}' does not exist` : `The instance IDs '${ids.join(', ')}' do not exist`),
    {
      name: 'InvalidInstanceID.NotFound',
    },
  );
function fakeEc2(states: Record<string, string>, invisible: Record<string, number> = {}) {
  const calls: string[] = [];
  const hidden = (id: string) => !(id in states) || (invisible[id] ?? 0) > 0;
  const use = (ids: string[]) => {
    for (const id of ids) if (invisible[id]) invisible[id]--;
  };
  const ec2 = {
    async send(cmd: unknown) {
      if (cmd instanceof DescribeInstancesCommand) {
        const ids = cmd.input.InstanceIds!;
        calls.push(`describe ${ids.join(',')}`);
        const missing = ids.filter(hidden);
        use(ids);
        if (missing.length) throw notFound(missing);
        return {
          Reservations: [
            {
              Instances: ids.map((id) => ({
                InstanceId: id,
                State: { Name: states[id] },
                Tags: [{ Key: 'eks:cluster-name', Value: 'c' }],
                MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
              })),
            },
          ],
        };
      }
      if (cmd instanceof ModifyInstanceMetadataOptionsCommand) {
        const id = cmd.input.InstanceId!;
        calls.push(`modify ${id}`);
        const gone = hidden(id) || states[id] === 'terminated';
        use([id]);
        if (gone) throw notFound([id]);
        return {
          InstanceMetadataOptions: { State: 'pending', HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
          $metadata: { requestId: 'r-1' },
        };
      }
      throw new Error('unexpected command');
    },
  };
  return { ec2: ec2 as unknown as EC2Client, calls };
}

const A = 'i-0000000000000000a';
const B = 'i-0000000000000000b';
const C = 'i-0000000000000000c';

describe('describeInstances with fresh IDs', () => {
  it('drops old NotFound IDs at once and describes fresh ones again after a wait', async () => {
    const { ec2, calls } = fakeEc2({ [A]: 'running', [C]: 'running' }, { [C]: 2 });
    const f = fakeTime();
    const out = await describeInstances(ec2, [A, B, C], {
      isFresh: (id) => id === C,
      retry: new NotFoundRetry({ now: f.now, sleep: f.sleep }),
    });
    expect([...out.keys()].sort()).toEqual([A, C]);
    expect(calls).toEqual([`describe ${A},${B},${C}`, `describe ${A}`, `describe ${C}`, `describe ${C}`]);
    expect(f.t.slept).toEqual([1_000, 2_000]);
  });

  it('without fresh IDs nothing waits', async () => {
    const { ec2, calls } = fakeEc2({ [A]: 'running' });
    const f = fakeTime();
    const out = await describeInstances(ec2, [A, B], { isFresh: () => false, retry: new NotFoundRetry({ now: f.now, sleep: f.sleep }) });
    expect([...out.keys()]).toEqual([A]);
    expect(calls).toHaveLength(2);
    expect(f.t.slept).toEqual([]);
  });
});

const target = (id: string, eventTime: string): KnownInstance => ({
  instanceId: id,
  region: 'eu-west-1',
  account: '111122223333',
  actor: 'arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling',
  eventId: 'ev-1',
  eventTime,
  metadataOptions: { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' },
  tags: { 'eks:cluster-name': 'c', owner: 'team-a' },
});
const remediation = { httpTokens: 'required' as const, hopLimit: 1 };
const firstGone = { outcome: 'gone' as const, reason: 'instance no longer exists (terminated)' };

describe('remediateAfterNotFound', () => {
  it('an instance Describe shows terminated is gone at once, with no wait', async () => {
    const { ec2, calls } = fakeEc2({ [A]: 'terminated' });
    const f = fakeTime();
    const res = await remediateAfterNotFound(ec2, target(A, ago(0)), remediation, firstGone, {
      retry: new NotFoundRetry({ now: f.now, sleep: f.sleep }),
    });
    expect(res).toMatchObject({ outcome: 'gone', reason: expect.stringContaining('terminated') });
    expect(calls).toEqual([`describe ${A}`]);
    expect(f.t.slept).toEqual([]);
  });

  it('an instance EC2 does not show yet is modified again after the waits', async () => {
    const { ec2, calls } = fakeEc2({ [A]: 'pending' }, { [A]: 3 });
    const f = fakeTime();
    const res = await remediateAfterNotFound(ec2, target(A, ago(0)), remediation, firstGone, {
      retry: new NotFoundRetry({ now: f.now, sleep: f.sleep }),
    });
    expect(res).toMatchObject({ outcome: 'remediated', after: { httpTokens: 'required', hopLimit: 1 } });
    expect(calls).toEqual([`describe ${A}`, `modify ${A}`, `describe ${A}`, `modify ${A}`]);
    expect(f.t.slept).toEqual([1_000, 2_000]);
  });

  it('gives up after the schedule: gone, having waited at most the budget', async () => {
    const { ec2, calls } = fakeEc2({ [A]: 'running' }, { [A]: 1_000 });
    const f = fakeTime();
    const res = await remediateAfterNotFound(ec2, target(A, ago(0)), remediation, firstGone, {
      retry: new NotFoundRetry({ now: f.now, sleep: f.sleep }),
    });
    expect(res).toMatchObject({ outcome: 'gone', reason: expect.stringContaining('still not found after 6 attempts') });
    expect(calls.filter((c) => c.startsWith('modify'))).toHaveLength(5); // + the caller's first attempt
    expect(f.t.now - NOW).toBeLessThanOrEqual(NOT_FOUND_BUDGET_MS);
  });
});

describe('enforceInstances applies the age rule', () => {
  const trigger = (eventName: string, eventTime: string): Trigger => ({
    source: 'cloudtrail',
    eventName,
    eventId: 'ev-1',
    eventTime,
    actor: 'a',
    region: 'eu-west-1',
    account: '111122223333',
  });
  const settings = {
    scope: 'eks' as const,
    exemptTagKey: 'imds-guard:exempt',
    exemptTagValue: 'true',
    exemptClusters: [],
    ownerTagKeys: ['owner'],
    defaultOwner: 'unowned',
  };
  const run = (ec2: EC2Client, f: ReturnType<typeof fakeTime>) => ({
    ec2,
    mode: 'enforce' as const,
    settings,
    concurrency: 2,
    policyFor: async () => ({ policy: { maxHopLimit: 1 }, notes: [] }),
    notFoundRetry: { now: f.now, sleep: f.sleep },
  });

  it('a fresh launch that EC2 does not show yet ends remediated; an old one is gone at once', async () => {
    const now = Date.now();
    for (const [eventTime, want, waits] of [
      [new Date(now - 10_000).toISOString(), 'remediated', [1_000]],
      [new Date(now - 10 * 60_000).toISOString(), 'gone', []],
    ] as const) {
      const { ec2, calls } = fakeEc2({ [A]: 'running' }, { [A]: 2 });
      const f = fakeTime(now);
      const records = await enforceInstances([target(A, eventTime)], trigger('RunInstances', eventTime), run(ec2, f));
      expect(
        records.map((r) => r.outcome),
        eventTime,
      ).toEqual([want]);
      expect(f.t.slept, eventTime).toEqual(waits);
      if (want === 'gone') expect(calls).toEqual([`modify ${A}`]); // not even a Describe
    }
  });

  it('a drift event (ModifyInstanceMetadataOptions) for a missing instance is gone after one Describe', async () => {
    const { ec2, calls } = fakeEc2({}, {});
    const f = fakeTime(Date.now());
    const t: InstanceTarget = { ...target(A, new Date().toISOString()) };
    delete t.metadataOptions;
    delete t.tags;
    const records = await enforceInstances([t], trigger('ModifyInstanceMetadataOptions', t.eventTime), run(ec2, f));
    expect(records.map((r) => r.outcome)).toEqual(['gone']);
    expect(calls).toEqual([`describe ${A}`]);
    expect(f.t.slept).toEqual([]);
  });

  it('CreateFleet: fresh IDs missing from Describe are described again, then remediated', async () => {
    const { ec2 } = fakeEc2({ [A]: 'running', [B]: 'running' }, { [B]: 1 });
    const f = fakeTime(Date.now());
    const bare = (id: string): InstanceTarget => ({
      instanceId: id,
      region: 'eu-west-1',
      account: '111122223333',
      actor: 'a',
      eventId: 'ev-1',
      eventTime: new Date().toISOString(),
    });
    const records = await enforceInstances([bare(A), bare(B)], trigger('CreateFleet', new Date().toISOString()), run(ec2, f));
    expect(records.map((r) => [r.resource.id, r.outcome]).sort()).toEqual([
      [A, 'remediated'],
      [B, 'remediated'],
    ]);
    expect(f.t.slept).toEqual([1_000]);
  });
});
