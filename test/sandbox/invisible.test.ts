// The `invisible` fault: EC2's eventual consistency right after a launch (NotFound for an ID that exists).
import {
  DescribeInstancesCommand,
  ModifyInstanceMetadataOptionsCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
beforeAll(async () => {
  h = await harness({ seed: 11 });
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const launch = async (n = 1) =>
  (await h.ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: n, MaxCount: n }))).Instances!.map((i) => i.InstanceId!);
const modify = (id: string) =>
  h.ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required', HttpPutResponseHopLimit: 1 }));
const describeIds = (ids: string[]) => h.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
const listed = async () =>
  (await h.ec2.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('invisible fault (eventual consistency)', () => {
  it('hides chosen IDs for their first N calls, Describe and Modify alike, then shows them', async () => {
    const [a, b] = await launch(2);
    h.sb.setFaults({ invisible: { ids: [a!], calls: 2 } });
    const e1 = await errorOf(describeIds([a!, b!]));
    expect(e1.name).toBe('InvalidInstanceID.NotFound');
    expect(e1.message).toBe(`The instance ID '${a}' does not exist`);
    expect(await listed()).toEqual([b]); // a listing leaves it out, and does not count
    expect((await errorOf(modify(a!))).name).toBe('InvalidInstanceID.NotFound');
    // The third call sees it, unchanged by the failed Modify.
    const d = await describeIds([a!]);
    expect(d.Reservations![0]!.Instances![0]!.MetadataOptions!.HttpTokens).toBe('optional');
    await modify(a!);
    expect(await listed()).toEqual([a, b]);
    expect(h.sb.stats().faults).toEqual({ DescribeInstances: 1, ModifyInstanceMetadataOptions: 1 });
  });

  it('hides chosen IDs for ms after their launch', async () => {
    const [a] = await launch();
    h.sb.setFaults({ invisible: { ids: [a!], ms: 150 } });
    expect((await errorOf(modify(a!))).name).toBe('InvalidInstanceID.NotFound');
    expect((await errorOf(describeIds([a!]))).name).toBe('InvalidInstanceID.NotFound');
    await sleep(170);
    await modify(a!);
  });

  it('names hidden and really missing IDs together, like EC2; terminated instances stay visible', async () => {
    const [a, b] = await launch(2);
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [b!] }));
    h.sb.setFaults({ invisible: { ids: [a!] } }); // neither ms nor calls: hidden for good
    const ghost = 'i-0123456789abcdef0';
    expect((await errorOf(describeIds([a!, ghost]))).message).toBe(`The instance IDs '${a}, ${ghost}' do not exist`);
    expect((await describeIds([b!])).Reservations![0]!.Instances![0]!.State!.Name).toBe('terminated');
    for (let i = 0; i < 5; i++) expect((await errorOf(modify(a!))).name).toBe('InvalidInstanceID.NotFound');
  });

  it('is deterministic: setting the faults again restarts the call counts', async () => {
    const [a] = await launch();
    const run = async () => {
      h.sb.setFaults({ invisible: { ids: [a!], calls: 1 } });
      const out: string[] = [];
      for (let i = 0; i < 3; i++)
        out.push(
          await modify(a!).then(
            () => 'ok',
            (e: Error) => e.name,
          ),
        );
      return out;
    };
    expect(await run()).toEqual(['InvalidInstanceID.NotFound', 'ok', 'ok']);
    expect(await run()).toEqual(['InvalidInstanceID.NotFound', 'ok', 'ok']);
  });
});
