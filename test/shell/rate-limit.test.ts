import { EC2Client, ModifyInstanceMetadataOptionsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyEc2, EC2_BUCKETS, RateLimiter, TokenBucket } from '../../lib/shell/rate-limit.js';
import type { Sandbox } from '../../sandbox/server.js';
import { startTestSandbox } from '../helpers/sandbox.js';

/** A clock the test moves by hand. */
function fakeClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBucket (fake clock)', () => {
  it('serves the burst at once, then one token per 1/rate seconds, in order', () => {
    const c = fakeClock();
    const b = new TokenBucket(100, 5, c.now);
    const waits = Array.from({ length: 103 }, () => b.reserve());
    expect(waits.slice(0, 100).every((w) => w === 0)).toBe(true);
    expect(waits.slice(100)).toEqual([200, 400, 600]);
  });

  it('refills with elapsed time, never above capacity', () => {
    const c = fakeClock();
    const b = new TokenBucket(10, 2, c.now);
    for (let i = 0; i < 10; i++) b.reserve();
    expect(b.available()).toBe(0);
    c.advance(1500);
    expect(b.available()).toBeCloseTo(3);
    c.advance(60_000);
    expect(b.available()).toBe(10);
  });

  it('queued reservations make tokens negative; time pays them back', () => {
    const c = fakeClock();
    const b = new TokenBucket(1, 10, c.now);
    expect(b.reserve()).toBe(0);
    expect(b.reserve()).toBeCloseTo(100);
    expect(b.reserve()).toBeCloseTo(200);
    expect(b.available()).toBeCloseTo(-2);
    c.advance(200);
    expect(b.available()).toBeCloseTo(0);
    expect(b.reserve()).toBeCloseTo(100);
  });

  it('msFor predicts the time n more calls need', () => {
    const c = fakeClock();
    const b = new TokenBucket(100, 5, c.now);
    expect(b.msFor(100)).toBe(0);
    expect(b.msFor(600)).toBe(100_000);
  });

  it('drain: after a throttle the local bucket holds no spare token', () => {
    const c = fakeClock();
    const b = new TokenBucket(100, 5, c.now);
    b.drain();
    expect(b.reserve()).toBeCloseTo(200);
  });

  it('startOnAnchor: no refill until anchor(); then the clock starts from the anchor, with no credit for before', async () => {
    const c = fakeClock();
    const b = new TokenBucket(2, 5, c.now, { startOnAnchor: true });
    expect(b.reserve()).toBe(0);
    expect(b.reserve()).toBe(0);
    c.advance(10_000);
    expect(b.available()).toBe(0);
    let anchored = false;
    const p = b.whenAnchored().then(() => (anchored = true));
    await Promise.resolve();
    expect(anchored).toBe(false);
    b.anchor();
    await p;
    expect(anchored).toBe(true);
    expect(b.reserve()).toBeCloseTo(200);
    c.advance(400);
    expect(b.available()).toBeCloseTo(1);
  });

  it('expect(n): a tenth of the burst at once, the rest evenly, the last no later than without pacing', () => {
    const c = fakeClock();
    const paced = new TokenBucket(99, 5, c.now);
    const plain = new TokenBucket(99, 5, c.now);
    paced.expect(200);
    const waits = Array.from({ length: 200 }, () => paced.reserve());
    const plainWaits = Array.from({ length: 200 }, () => plain.reserve());
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    // Evenly spaced after the lead: no burst of 99 at t = 0.
    const gaps = waits.slice(11).map((w, i) => w - (waits[10 + i] as number));
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThan(1e-6);
    expect(waits.filter((w) => w === 0)).toHaveLength(10);
    // Same finish: (200 - 99) / 5 s, and no call later than the unpaced schedule would send it... at the end.
    expect(waits[199]).toBeCloseTo(plainWaits[199] as number, 6);
    expect(waits[199]).toBeCloseTo(20_200, 6);
  });

  it('expect: nothing is paced when the tokens cover every call; expect(0) stops pacing', () => {
    const c = fakeClock();
    const b = new TokenBucket(100, 5, c.now);
    b.expect(50);
    expect(Array.from({ length: 50 }, () => b.reserve())).toEqual(Array(50).fill(0));
    const d = new TokenBucket(100, 5, c.now);
    d.expect(300);
    d.expect(0);
    expect(Array.from({ length: 100 }, () => d.reserve())).toEqual(Array(100).fill(0));
  });

  it('expect: a caller that fell behind its slots catches up at once (the schedule is absolute), still bound by tokens', () => {
    const c = fakeClock();
    const b = new TokenBucket(100, 5, c.now);
    b.expect(300);
    for (let i = 0; i < 10; i++) b.reserve();
    c.advance(30_000);
    // 30 s late: ~217 slots are in the past, so calls go at once, but only as far as the tokens go (capped at 100).
    const late = Array.from({ length: 100 }, () => b.reserve());
    expect(late.every((w) => w === 0)).toBe(true);
    expect(b.reserve()).toBeCloseTo(200);
  });

  it('rejects nonsense buckets', () => {
    expect(() => new TokenBucket(0, 5)).toThrow(RangeError);
    expect(() => new TokenBucket(5, 0)).toThrow(RangeError);
  });
});

describe('classifyEc2', () => {
  it('matches REFERENCE §2', () => {
    expect(classifyEc2('ModifyInstanceMetadataOptions')).toBe('ModifyInstanceMetadataOptions');
    expect(classifyEc2('CreateLaunchTemplateVersion')).toBe('CreateLaunchTemplateVersion');
    expect(classifyEc2('ModifyLaunchTemplate')).toBe('ModifyLaunchTemplate');
    expect(classifyEc2('ModifyInstanceMetadataDefaults')).toBe('ModifyInstanceMetadataDefaults');
    expect(classifyEc2('DescribeInstances', { MaxResults: 1000 })).toBe('non-mutating');
    expect(classifyEc2('DescribeInstances', { InstanceIds: ['i-1'] })).toBe('non-mutating');
    expect(classifyEc2('DescribeInstances', {})).toBe('unfiltered-non-mutating');
    expect(classifyEc2('DescribeLaunchTemplates', {})).toBe('non-mutating');
    expect(classifyEc2('GetInstanceMetadataDefaults')).toBe('non-mutating');
    expect(classifyEc2('CreateTags')).toBe('mutating');
    expect(EC2_BUCKETS.ModifyInstanceMetadataOptions).toEqual({ capacity: 100, refillPerSecond: 5 });
    expect(EC2_BUCKETS.ModifyInstanceMetadataDefaults).toEqual({ capacity: 2, refillPerSecond: 2 });
    expect(EC2_BUCKETS['non-mutating']).toEqual({ capacity: 100, refillPerSecond: 20 });
    expect(EC2_BUCKETS.mutating).toEqual({ capacity: 50, refillPerSecond: 5 });
  });
});

describe('RateLimiter', () => {
  it('keeps a jitter headroom (at least one token) out of the burst and scales the refill', () => {
    const l = new RateLimiter();
    expect(l.spec('ModifyInstanceMetadataOptions')).toEqual({ capacity: 99, refillPerSecond: 5 });
    expect(l.spec('ModifyInstanceMetadataDefaults')).toEqual({ capacity: 1, refillPerSecond: 2 });
    expect(l.spec('non-mutating')).toEqual({ capacity: 96, refillPerSecond: 20 });
    const fast = new RateLimiter({ timeScale: 20 });
    expect(fast.spec('ModifyInstanceMetadataOptions')).toEqual({ capacity: 80, refillPerSecond: 100 });
    expect(new RateLimiter({ jitterMs: 0 }).spec('ModifyInstanceMetadataOptions')).toEqual({ capacity: 100, refillPerSecond: 5 });
    expect(new RateLimiter({ jitterMs: 400 }).spec('ModifyInstanceMetadataOptions')).toEqual({ capacity: 98, refillPerSecond: 5 });
  });

  it('past the burst, calls wait for the first response of their bucket before pacing', async () => {
    const c = fakeClock();
    const slept: number[] = [];
    const l = new RateLimiter({
      jitterMs: 0,
      now: c.now,
      sleep: async (ms) => void slept.push(ms),
      buckets: { ModifyInstanceMetadataOptions: { capacity: 1, refillPerSecond: 10 } },
    });
    await l.acquire('eu-west-1', 'ModifyInstanceMetadataOptions');
    let second = false;
    const p = l.acquire('eu-west-1', 'ModifyInstanceMetadataOptions').then(() => (second = true));
    c.advance(5_000); // time before the first response earns nothing
    await new Promise((r) => setTimeout(r, 5));
    expect(second).toBe(false);
    l.onResponse('eu-west-1', 'ModifyInstanceMetadataOptions');
    await p;
    expect(slept).toEqual([100]);
  });

  it('waits per (Region, bucket): Regions and APIs do not share tokens; Describe* share one', async () => {
    const c = fakeClock();
    const slept: number[] = [];
    const l = new RateLimiter({
      jitterMs: 0,
      waitForFirstResponse: false,
      now: c.now,
      sleep: async (ms) => void slept.push(ms),
      buckets: { ModifyInstanceMetadataOptions: { capacity: 2, refillPerSecond: 1 }, 'non-mutating': { capacity: 1, refillPerSecond: 1 } },
    });
    for (let i = 0; i < 3; i++) await l.acquire('eu-west-1', 'ModifyInstanceMetadataOptions');
    await l.acquire('us-east-1', 'ModifyInstanceMetadataOptions');
    await l.acquire('eu-west-1', 'DescribeInstances', { MaxResults: 5 });
    await l.acquire('eu-west-1', 'DescribeLaunchTemplates', {});
    expect(slept).toEqual([1000, 1000]);
    expect(l.stats()).toMatchObject({
      acquired: { 'eu-west-1|ModifyInstanceMetadataOptions': 3, 'us-east-1|ModifyInstanceMetadataOptions': 1, 'eu-west-1|non-mutating': 2 },
      waitedMs: 2000,
    });
    expect(l.estimateMs('eu-west-1', 'ModifyInstanceMetadataOptions', 2)).toBe(3000);
  });

  it('disabled: counts, never waits', async () => {
    const l = new RateLimiter({ enabled: false, sleep: async () => expect.fail('slept') });
    for (let i = 0; i < 500; i++) await l.acquire('eu-west-1', 'ModifyInstanceMetadataOptions');
    expect(l.stats().acquired['eu-west-1|ModifyInstanceMetadataOptions']).toBe(500);
  });
});

describe('rate-limit plugin on a real EC2 client (sandbox buckets)', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    // Small, fast buckets: the same shape as AWS's, so a burst overruns them without the limiter.
    sb = await startTestSandbox();
  });
  afterAll(() => sb.close());

  const client = (plugin?: ReturnType<RateLimiter['plugin']>) => {
    const c = new EC2Client({
      region: 'eu-west-1',
      endpoint: sb.url,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 1,
    });
    if (plugin) c.middlewareStack.use(plugin);
    return c;
  };

  it('without the limiter a burst is throttled; with it, zero throttles (every attempt waits for a token)', async () => {
    const seed = await client().send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 40, MaxCount: 40 }));
    const ids = seed.Instances!.map((i) => i.InstanceId!);
    const buckets = { ModifyInstanceMetadataOptions: 5 };
    const refill = { ModifyInstanceMetadataOptions: 50 };
    const modifyAll = (c: EC2Client) =>
      Promise.allSettled(
        ids.map((id) =>
          c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required', HttpPutResponseHopLimit: 1 })),
        ),
      );

    sb.setThrottle({ enabled: true, capacity: buckets, refill });
    const raw = await modifyAll(client());
    expect(raw.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);

    sb.setThrottle({ enabled: true, capacity: buckets, refill });
    const before = sb.stats().throttled.ModifyInstanceMetadataOptions ?? 0;
    const limiter = new RateLimiter({ buckets: { ModifyInstanceMetadataOptions: { capacity: 5, refillPerSecond: 50 } } });
    const limited = await modifyAll(client(limiter.plugin('eu-west-1')));
    expect(limited.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((sb.stats().throttled.ModifyInstanceMetadataOptions ?? 0) - before).toBe(0);
    expect(limiter.stats().acquired['eu-west-1|ModifyInstanceMetadataOptions']).toBe(40);
    expect(limiter.stats().waitedMs).toBeGreaterThan(0);
  });

  it('a throttle that gets through is counted and drains the local bucket', async () => {
    sb.setThrottle({ enabled: true, capacity: { ModifyInstanceMetadataOptions: 1 }, refill: { ModifyInstanceMetadataOptions: 0.001 } });
    const [inst] = (await client().send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1 }))).Instances!;
    const limiter = new RateLimiter({ jitterMs: 0, buckets: { ModifyInstanceMetadataOptions: { capacity: 50, refillPerSecond: 1000 } } });
    const c = client(limiter.plugin('eu-west-1'));
    const send = () =>
      c.send(
        new ModifyInstanceMetadataOptionsCommand({ InstanceId: inst!.InstanceId, HttpTokens: 'required', HttpPutResponseHopLimit: 1 }),
      );
    await send();
    await expect(send()).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    expect(limiter.stats().throttled).toEqual({ 'eu-west-1|ModifyInstanceMetadataOptions': 1 });
    expect(limiter.bucket('eu-west-1', 'ModifyInstanceMetadataOptions').available()).toBeLessThanOrEqual(1);
  });
});
