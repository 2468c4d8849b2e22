// Issue 2/3 end to end: CloudTrail events for the demo estate, delivered to the real enforce-instances.
import { ModifyInstanceMetadataOptionsCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe as group, expect, it, vi } from 'vitest';
import * as ct from '../../sandbox/cloudtrail.js';
import { seedDemo, type DemoInfo } from '../../sandbox/scenarios/demo.js';
import { callCounter, describe, lambdaFor, options, publishedRecords, sandboxIt, startTarget, type Target } from '../helpers/sandbox.js';
import { launchInstances } from '../helpers/launch.js';

let t: Target;
let demo: DemoInfo;
let w: ct.Where;

beforeAll(async () => {
  t = await startTarget();
  demo = await seedDemo({ endpoint: t.endpoint, region: t.region });
  w = { region: t.region, account: demo.accountId };
}, 60_000);
afterAll(() => t.close());
afterEach(() => vi.unstubAllEnvs());

const launch = (n: number, tokens: 'optional' | 'required', hop: number, tags: Record<string, string>) =>
  launchInstances(t.ec2, n, tokens, hop, tags);

group('enforce-instances on the sandbox', () => {
  it('fixes every non-compliant EKS node from its launch events; leaves exempt, non-EKS and compliant nodes alone', async () => {
    const run = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: 'off' });
    const ng = demo.nodegroups;
    const m = demo.modernNodegroups;
    const modern = [...m.al2023.instanceIds, ...m.bottlerocket.instanceIds, ...m.windows.instanceIds, ...m.eksctl.instanceIds];
    const all = [
      ...ng.paymentsDefault.instanceIds,
      ...ng.analyticsCustom.instanceIds,
      demo.selfManaged.optionalHop1,
      demo.selfManaged.requiredHop2,
      demo.bastionInstanceId,
      demo.exemptInstanceId,
      ...modern,
    ];
    const before = await describe(t, [...all, ...demo.karpenterInstanceIds]);
    const pick = (ids: string[]) => ids.map((id) => before.get(id)!);
    const calls = callCounter(t);

    await run(ct.runInstances(pick(ng.paymentsDefault.instanceIds), 'autoscaling', w));
    await run(ct.runInstances(pick(ng.analyticsCustom.instanceIds), 'autoscaling', w));
    await run(
      ct.runInstances(
        pick([demo.selfManaged.optionalHop1, demo.selfManaged.requiredHop2, demo.bastionInstanceId, demo.exemptInstanceId]),
        'user',
        w,
      ),
    );
    // Today's node groups (AL2023, Bottlerocket, Windows) and eksctl's nodes, each launched by Auto Scaling.
    await run(ct.runInstances(pick(modern), 'autoscaling', w));
    const used = calls.since();
    const fleet = await run(ct.createFleet(demo.karpenterInstanceIds, w));

    const after = await describe(t, [...all, ...demo.karpenterInstanceIds]);
    for (const id of demo.expectedNonCompliantNodes) expect(options(after.get(id)), id).toEqual(['required', 1]);
    const compliantNow = [...demo.karpenterInstanceIds, ...m.al2023.instanceIds, ...m.bottlerocket.instanceIds];
    for (const id of [demo.bastionInstanceId, demo.exemptInstanceId, ...compliantNow])
      expect(options(after.get(id)), id).toEqual(options(before.get(id)));
    expect(fleet.counts).toEqual({ compliant: demo.karpenterInstanceIds.length });
    if (t.sandbox) {
      // Events carried options and tags: one Modify per bad node, no Describe at all.
      expect(used.ModifyInstanceMetadataOptions).toBe(demo.expectedNonCompliantNodes.length);
      expect(used.DescribeInstances ?? 0).toBe(0);
    }
  });

  sandboxIt('publishes one message per trigger and owner, with a body per protocol and filterable attributes', async () => {
    const msgs = t.sandbox!.messages();
    expect(msgs.length).toBeGreaterThan(0);
    const perTriggerOwner = new Set(msgs.map((m) => `${JSON.parse(m.bodies.default!).trigger.eventId}|${m.attributes.owner}`));
    expect(perTriggerOwner.size).toBe(msgs.length);
    for (const m of msgs) {
      expect(m.messageStructure).toBe('json');
      expect(Object.keys(m.bodies).sort()).toEqual(['default', 'email', 'https', 'lambda', 'sqs']);
      expect(Object.keys(m.attributes).sort()).toEqual([
        'account',
        'cluster',
        'eventName',
        'outcome',
        'owner',
        'region',
        'resourceType',
        'severity',
      ]);
      const audit = JSON.parse(m.bodies.sqs!);
      for (const r of audit.records) expect(r.resource.owner).toBe(m.attributes.owner);
    }
    const exempt = msgs.flatMap((m) => JSON.parse(m.bodies.default!).records).find((r: any) => r.resource.id === demo.exemptInstanceId);
    expect(exempt).toMatchObject({ outcome: 'exempt', reason: expect.stringContaining('imds-guard:exempt') });
  });

  it('drift: a node switched back to tokens optional is fixed again', async () => {
    const run = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: 'off' });
    const id = demo.selfManaged.requiredHop2;
    await t.ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'optional' }));
    expect(options((await describe(t, [id])).get(id))[0]).toBe('optional');
    const res = await run(ct.modifyMetadataOptions(id, w));
    expect(res.counts).toEqual({ remediated: 1 });
    expect(options((await describe(t, [id])).get(id))).toEqual(['required', 1]);
  });

  it('dry run: reports would-remediate and changes nothing', async () => {
    const run = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: 'off', MODE: 'dry-run' });
    const bad = await launch(3, 'optional', 2, { 'kubernetes.io/cluster/payments': 'owned', team: 'payments' });
    const calls = callCounter(t);
    const res = await run(ct.runInstances(bad, 'user', w));
    expect(res.counts).toEqual({ 'would-remediate': 3 });
    if (t.sandbox) expect(calls.since().ModifyInstanceMetadataOptions ?? 0).toBe(0);
    const after = await describe(
      t,
      bad.map((i) => i.InstanceId!),
    );
    for (const i of bad) expect(options(after.get(i.InstanceId!))).toEqual(['optional', 2]);
  });

  it('a terminated node: its gone record carries the owner and cluster DescribeInstances returned', async () => {
    const [node] = await launch(1, 'optional', 2, { 'kubernetes.io/cluster/payments': 'owned', owner: 'gone-owner@example.com' });
    const id = node!.InstanceId!;
    await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    const records = await publishedRecords(t);
    // instance-first: the owner comes from the instance's own tags (the cluster's team tag would come first otherwise).
    const run = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: 'off', OWNER_SOURCE: 'instance-first' });
    // A drift event names the instance only: its tags come from DescribeInstances, which still shows it terminated.
    const res = await run(ct.modifyMetadataOptions(id, w));
    expect(res.decisions).toEqual([expect.objectContaining({ id, outcome: 'gone', owner: 'gone-owner@example.com' })]);
    const record = (await records()).find((r) => r.resource.id === id);
    expect(record).toMatchObject({ outcome: 'gone', resource: { owner: 'gone-owner@example.com', cluster: 'payments' } });
  });

  sandboxIt('under EC2 throttling the SDK retries until every node is fixed', async () => {
    const bad = await launch(15, 'optional', 2, { 'eks:cluster-name': 'payments', 'eks:nodegroup-name': 'ng' });
    // A 3-token bucket refilling at 40/s: most of the 15 calls are throttled at first.
    t.sandbox!.setThrottle({
      enabled: true,
      capacity: { ModifyInstanceMetadataOptions: 3 },
      refill: { ModifyInstanceMetadataOptions: 40 },
    });
    try {
      const run = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: 'off', CONCURRENCY: '15' });
      const res = await run(ct.runInstances(bad, 'autoscaling', w));
      expect(res.counts).toEqual({ remediated: 15 });
      expect(t.sandbox!.stats().throttled.ModifyInstanceMetadataOptions ?? 0).toBeGreaterThan(0);
    } finally {
      t.sandbox!.setThrottle({ enabled: false });
    }
  });

  sandboxIt('an instance still pending (IncorrectInstanceState) is retried; a terminated one is reported gone', async () => {
    const [pending, vanished] = await launch(2, 'optional', 2, { 'kubernetes.io/cluster/payments': 'owned' });
    t.sandbox!.setFaults({ pending: { ids: [pending!.InstanceId!], modifyAttempts: 2 }, vanish: { ids: [vanished!.InstanceId!] } });
    try {
      const run = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: 'off' });
      const res = await run(ct.runInstances([pending!, vanished!], 'user', w));
      expect(res.decisions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: pending!.InstanceId, outcome: 'remediated' }),
          expect.objectContaining({ id: vanished!.InstanceId, outcome: 'gone' }),
        ]),
      );
    } finally {
      t.sandbox!.setFaults({});
    }
  });
});
