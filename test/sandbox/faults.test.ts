import {
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  ModifyInstanceMetadataOptionsCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ListClustersCommand } from '@aws-sdk/client-eks';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { minSeconds } from '../../sandbox/server.js';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
beforeAll(async () => {
  h = await harness({ seed: 7 });
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const launch = async (ec2: EC2Client = h.ec2, n = 1) =>
  (await ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: n, MaxCount: n }))).Instances!.map((i) => i.InstanceId!);
const modify = (id: string, ec2: EC2Client = h.ec2) =>
  ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required', HttpPutResponseHopLimit: 1 }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('throttling', () => {
  it('computes the theoretical minimum time from REFERENCE §2 buckets', () => {
    expect(minSeconds('ModifyInstanceMetadataOptions', 5000)).toBe(980);
    expect(minSeconds('ModifyInstanceMetadataOptions', 5000, { timeScale: 20 })).toBe(49);
    expect(minSeconds('ModifyInstanceMetadataOptions', 80)).toBe(0);
    expect(minSeconds('DescribeInstances', 150, {}, {})).toBe(10); // unfiltered: 50 + 10/s
    expect(minSeconds('DescribeInstances', 150)).toBe(2.5); // filtered/paginated: 100 + 20/s
    expect(minSeconds('ModifyInstanceMetadataDefaults', 4)).toBe(1);
    expect(minSeconds('CreateTags', 60)).toBe(2); // other mutating: 50 + 5/s
  });

  it('throttles per API and Region with RequestLimitExceeded (503)', async () => {
    const us = h.inRegion('us-east-1');
    const [id] = await launch();
    const [usId] = await launch(us.ec2);
    h.sb.setThrottle({ capacity: { ModifyInstanceMetadataOptions: 3 }, refill: { ModifyInstanceMetadataOptions: 0.001 } });
    for (let i = 0; i < 3; i++) await modify(id!);
    const err = await errorOf(modify(id!));
    expect(err.name).toBe('RequestLimitExceeded');
    expect(err.message).toBe('Request limit exceeded.');
    expect(err.$metadata?.httpStatusCode).toBe(503);
    await modify(usId!, us.ec2); // another Region has its own bucket
    await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id!] })); // another API too
    expect(h.sb.stats().throttled).toEqual({ ModifyInstanceMetadataOptions: 1 });
    expect(h.sb.stats().calls.ModifyInstanceMetadataOptions).toBe(5);
  });

  it('refills faster with timeScale', async () => {
    const [id] = await launch();
    h.sb.setThrottle({ capacity: 1, timeScale: 1000 }); // 5,000 tokens/s
    await modify(id!);
    await sleep(5);
    await modify(id!);
  });

  it('gives unfiltered, unpaginated DescribeInstances its own smaller bucket', async () => {
    h.sb.setThrottle({ capacity: { 'unfiltered-non-mutating': 2 }, refill: { 'unfiltered-non-mutating': 0.001 } });
    await h.ec2.send(new DescribeInstancesCommand({}));
    await h.ec2.send(new DescribeInstancesCommand({}));
    expect((await errorOf(h.ec2.send(new DescribeInstancesCommand({})))).name).toBe('RequestLimitExceeded');
    await h.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }));
    await h.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
  });

  it('can be disabled', async () => {
    h.sb.setThrottle({ enabled: false, capacity: 0 });
    await h.ec2.send(new DescribeRegionsCommand({}));
  });
});

describe('fault injection', () => {
  it('injects 5xx errors at a rate, deterministically for a seed', async () => {
    const outcomes = async () => {
      h.sb.setFaults({ seed: 99, errors: { DescribeRegions: { rate: 0.5, kind: '5xx' } } });
      const out: string[] = [];
      for (let i = 0; i < 30; i++) {
        out.push(
          await h.ec2.send(new DescribeRegionsCommand({})).then(
            () => 'ok',
            (e: Error & { $metadata: { httpStatusCode: number } }) => `${e.name}:${e.$metadata.httpStatusCode}`,
          ),
        );
      }
      return out;
    };
    const a = await outcomes();
    const failures = a.filter((x) => x !== 'ok');
    expect(new Set(failures)).toEqual(new Set(['InternalError:500']));
    expect(failures.length).toBeGreaterThan(5);
    expect(failures.length).toBeLessThan(25);
    expect(h.sb.stats().faults.DescribeRegions).toBe(failures.length);
    expect(await outcomes()).toEqual(a);
    await h.ec2.send(new DescribeInstancesCommand({})); // other operations untouched
  });

  it("'*' applies to every service in its own error shape", async () => {
    h.sb.setFaults({ errors: { '*': { rate: 1, kind: 'throttle' } } });
    expect((await errorOf(h.ec2.send(new DescribeRegionsCommand({})))).name).toBe('RequestLimitExceeded');
    const eks = await errorOf(h.eks.send(new ListClustersCommand({})));
    expect(eks.name).toBe('ThrottlingException');
    expect((await errorOf(h.sns.send(new CreateTopicCommand({ Name: 't' })))).name).toBe('ThrottledException');
    h.sb.setFaults({ errors: { '*': { rate: 1, kind: '5xx' } } });
    expect((await errorOf(h.eks.send(new ListClustersCommand({})))).name).toBe('ServerException');
  });

  it('makes instances vanish just before a Modify call', async () => {
    const [a, b] = await launch(h.ec2, 2);
    h.sb.setFaults({ vanish: { ids: [a!] } });
    const err = await errorOf(modify(a!));
    expect(err.name).toBe('InvalidInstanceID.NotFound');
    expect(err.message).toContain(a!);
    await modify(b!);
    const d = await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [a!] }));
    expect(d.Reservations![0]!.Instances![0]!.State!.Name).toBe('terminated');
    h.sb.setFaults({ vanish: { rate: 1 } });
    expect((await errorOf(modify(b!))).name).toBe('InvalidInstanceID.NotFound');
    expect(h.sb.stats().faults.ModifyInstanceMetadataOptions).toBe(2);
  });

  it('keeps instances pending for N Modify attempts (IncorrectInstanceState)', async () => {
    h.sb.setFaults({ pending: { modifyAttempts: 2 } });
    const [id] = await launch();
    const d = await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id!] }));
    expect(d.Reservations![0]!.Instances![0]!.State!.Name).toBe('pending');
    for (let i = 0; i < 2; i++) expect((await errorOf(modify(id!))).name).toBe('IncorrectInstanceState');
    const ok = await modify(id!);
    expect(ok.InstanceMetadataOptions?.HttpTokens).toBe('required');
  });

  it('keeps instances pending for N ms, also existing ones by id', async () => {
    const [old] = await launch();
    // Wide enough that a loaded machine still makes both calls inside the window.
    h.sb.setFaults({ pending: { ms: 1500, ids: [old!] } });
    const [fresh] = await launch();
    for (const id of [old!, fresh!]) expect((await errorOf(modify(id))).name).toBe('IncorrectInstanceState');
    await sleep(1600);
    await modify(old!);
    await modify(fresh!);
  });

  it('adds latency', async () => {
    h.sb.setFaults({ latency: { ms: 25, jitterMs: 5 } });
    const t0 = Date.now();
    await h.ec2.send(new DescribeRegionsCommand({}));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(24);
  });
});

describe('control plane', () => {
  it('exposes stats, messages, state, faults and reset over HTTP', async () => {
    const [id] = await launch();
    const post = (path: string, body: unknown) => fetch(`${h.sb.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post('/_sandbox/faults', { vanish: { ids: [id] } })).status).toBe(200);
    expect((await errorOf(modify(id!))).name).toBe('InvalidInstanceID.NotFound');
    const stats = (await (await fetch(`${h.sb.url}/_sandbox/stats`)).json()) as {
      calls: Record<string, number>;
      faults: Record<string, number>;
    };
    expect(stats.calls).toEqual({ RunInstances: 1, ModifyInstanceMetadataOptions: 1 });
    expect(stats.faults).toEqual({ ModifyInstanceMetadataOptions: 1 });
    const state = (await (await fetch(`${h.sb.url}/_sandbox/state`)).json()) as {
      regions: Record<string, { instances: { id: string; state: string }[] }>;
    };
    expect(state.regions['eu-west-1']!.instances).toMatchObject([{ id, state: 'terminated' }]);
    expect(await (await fetch(`${h.sb.url}/_sandbox/messages`)).json()).toEqual([]);
    await post('/_sandbox/reset', {});
    expect(h.sb.state.region('eu-west-1').instances.size).toBe(0);
    expect(h.sb.stats().calls).toEqual({});
    const [again] = await launch();
    await modify(again!); // faults were restored to the start-up options
  });

  it('reset restores deterministic ids for the same seed', async () => {
    const first = await launch(h.ec2, 3);
    h.sb.reset();
    expect(await launch(h.ec2, 3)).toEqual(first);
  });
});
