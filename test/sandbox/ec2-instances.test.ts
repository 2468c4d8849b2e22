import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  DescribeVpcsCommand,
  GetInstanceMetadataDefaultsCommand,
  ModifyInstanceMetadataDefaultsCommand,
  ModifyInstanceMetadataOptionsCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const run = async (input: Partial<RunInstancesCommandInput> = {}, tags: Record<string, string> = {}) => {
  const out = await h.ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-1',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: Object.keys(tags).length
        ? [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }]
        : undefined,
      ...input,
    }),
  );
  return out.Instances!;
};

describe('RunInstances / DescribeInstances', () => {
  it('launches with AWS defaults and returns pending, then describes as running', async () => {
    const [i] = await run({ InstanceType: 't3.small' }, { team: 'a' });
    expect(i!.InstanceId).toMatch(/^i-[0-9a-f]{17}$/);
    expect(i!.State).toEqual({ Code: 0, Name: 'pending' });
    expect(i!.MetadataOptions).toEqual({
      State: 'pending',
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 1,
      HttpEndpoint: 'enabled',
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'disabled',
    });
    const d = await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [i!.InstanceId!] }));
    const got = d.Reservations![0]!.Instances![0]!;
    expect(got.State?.Name).toBe('running');
    expect(got.MetadataOptions?.State).toBe('applied');
    expect(got.InstanceType).toBe('t3.small');
    expect(got.LaunchTime).toBeInstanceOf(Date);
    expect(got.Tags).toEqual([{ Key: 'team', Value: 'a' }]);
    expect(d.Reservations![0]!.OwnerId).toBe('111122223333');
  });

  it('filters by metadata options, tags and state', async () => {
    await run({ MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 } }, { team: 'a' });
    const [b] = await run({ MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 } }, { team: 'b', owner: 'x' });
    const [c] = await run({ MetadataOptions: { HttpTokens: 'optional' } }, { 'kubernetes.io/cluster/payments': 'owned' });
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [c!.InstanceId!] }));
    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      (await h.ec2.send(new DescribeInstancesCommand({ Filters }))).Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId));
    expect(await ids([{ Name: 'metadata-options.http-put-response-hop-limit', Values: ['2'] }])).toEqual([b!.InstanceId]);
    expect(await ids([{ Name: 'metadata-options.http-tokens', Values: ['optional'] }])).toEqual([c!.InstanceId]);
    expect(await ids([{ Name: 'tag-key', Values: ['kubernetes.io/cluster/*'] }])).toEqual([c!.InstanceId]);
    expect(
      await ids([
        { Name: 'tag:team', Values: ['a', 'b'] },
        { Name: 'tag-key', Values: ['owner'] },
      ]),
    ).toEqual([b!.InstanceId]);
    expect(await ids([{ Name: 'instance-state-name', Values: ['terminated'] }])).toEqual([c!.InstanceId]);
    expect(
      await ids([
        { Name: 'metadata-options.http-endpoint', Values: ['enabled'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ]),
    ).toHaveLength(2);
    const err = await errorOf(h.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })));
    expect(err.name).toBe('InvalidParameterValue');
  });

  it('paginates with MaxResults/NextToken and groups reservations', async () => {
    await run({ MinCount: 7, MaxCount: 7 });
    await run({ MinCount: 5, MaxCount: 5 });
    const pages: number[] = [];
    const seen = new Set<string>();
    for await (const p of paginateDescribeInstances({ client: h.ec2, pageSize: 5 }, {})) {
      const insts = p.Reservations!.flatMap((r) => r.Instances!);
      pages.push(insts.length);
      for (const i of insts) seen.add(i.InstanceId!);
    }
    expect(pages).toEqual([5, 5, 2]);
    expect(seen.size).toBe(12);
    const all = await h.ec2.send(new DescribeInstancesCommand({}));
    expect(all.Reservations!.map((r) => r.Instances!.length)).toEqual([7, 5]);
  });

  it('rejects bad describe parameters like AWS', async () => {
    const [i] = await run();
    const combo = await errorOf(h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [i!.InstanceId!], MaxResults: 5 })));
    expect(combo.name).toBe('InvalidParameterCombination');
    const nf = await errorOf(h.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    expect(nf.name).toBe('InvalidInstanceID.NotFound');
    expect(nf.message).toContain('i-0123456789abcdef0');
    expect(nf.$metadata?.httpStatusCode).toBe(400);
    const many = Array.from({ length: 1001 }, (_, n) => `i-${n.toString(16).padStart(17, '0')}`);
    expect((await errorOf(h.ec2.send(new DescribeInstancesCommand({ InstanceIds: many })))).name).toBe('InvalidParameterValue');
    expect((await errorOf(h.ec2.send(new DescribeInstancesCommand({ MaxResults: 1001 })))).name).toBe('InvalidParameterValue');
    expect((await errorOf(h.ec2.send(new DescribeInstancesCommand({ NextToken: 'garbage', MaxResults: 5 })))).name).toBe(
      'InvalidPaginationToken',
    );
    expect((await errorOf(h.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['bogus'] })))).name).toBe('InvalidInstanceID.Malformed');
  });

  it('keeps Regions independent', async () => {
    await run();
    const us = h.inRegion('us-east-1');
    expect((await us.ec2.send(new DescribeInstancesCommand({}))).Reservations).toEqual([]);
    await us.ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 2, MaxCount: 2 }));
    expect(h.sb.state.region('us-east-1').instances.size).toBe(2);
    expect(h.sb.state.region('eu-west-1').instances.size).toBe(1);
  });

  it('rejects user tags with the aws: prefix, allows CreateTags/DeleteTags otherwise', async () => {
    const err = await errorOf(run({}, { 'aws:autoscaling:groupName': 'x' }));
    expect(err.name).toBe('InvalidParameterValue');
    const [i] = await run();
    const id = i!.InstanceId!;
    await h.ec2.send(
      new CreateTagsCommand({
        Resources: [id],
        Tags: [
          { Key: 'owner', Value: 'me' },
          { Key: 'x', Value: '1' },
        ],
      }),
    );
    await h.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'x' }] }));
    expect(h.sb.state.region('eu-west-1').instances.get(id)!.tags).toEqual({ owner: 'me' });
    const nf = await errorOf(h.ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] })));
    expect(nf.name).toBe('InvalidInstanceID.NotFound');
  });

  it('answers DryRun with DryRunOperation', async () => {
    const err = await errorOf(h.ec2.send(new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1, DryRun: true })));
    expect(err.name).toBe('DryRunOperation');
    expect(h.sb.state.region('eu-west-1').instances.size).toBe(0);
  });
});

describe('ModifyInstanceMetadataOptions', () => {
  it('reproduces the trap: an omitted HttpTokens means optional, other fields keep state', async () => {
    const [i] = await run({ MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'enabled' } });
    const out = await h.ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: i!.InstanceId, HttpPutResponseHopLimit: 1 }));
    expect(out.InstanceId).toBe(i!.InstanceId);
    expect(out.InstanceMetadataOptions).toEqual({
      State: 'pending',
      HttpTokens: 'optional', // silently back to IMDSv1
      HttpPutResponseHopLimit: 1,
      HttpEndpoint: 'enabled',
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'enabled',
    });
    const fixed = await h.ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: i!.InstanceId, HttpTokens: 'required' }));
    expect(fixed.InstanceMetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(h.sb.state.region('eu-west-1').instances.get(i!.InstanceId!)!.modifyCount).toBe(2);
  });

  it('fails with InvalidInstanceID.NotFound for unknown and terminated instances', async () => {
    const [i] = await run();
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [i!.InstanceId!] }));
    for (const id of [i!.InstanceId!, 'i-0123456789abcdef0']) {
      const err = await errorOf(h.ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required' })));
      expect(err.name).toBe('InvalidInstanceID.NotFound');
    }
  });

  it('validates the hop limit', async () => {
    const [i] = await run();
    const err = await errorOf(
      h.ec2.send(
        new ModifyInstanceMetadataOptionsCommand({ InstanceId: i!.InstanceId, HttpTokens: 'required', HttpPutResponseHopLimit: 65 }),
      ),
    );
    expect(err.name).toBe('InvalidParameterValue');
  });
});

describe('TerminateInstances', () => {
  it('returns shutting-down and leaves terminated instances describable', async () => {
    const [i] = await run();
    const out = await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [i!.InstanceId!] }));
    expect(out.TerminatingInstances![0]).toMatchObject({ CurrentState: { Name: 'shutting-down' }, PreviousState: { Name: 'running' } });
    const d = await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [i!.InstanceId!] }));
    expect(d.Reservations![0]!.Instances![0]!.State?.Name).toBe('terminated');
  });
});

describe('instance metadata defaults', () => {
  it('applies account defaults to fields the launch leaves unset', async () => {
    await h.ec2.send(new ModifyInstanceMetadataDefaultsCommand({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 }));
    const got = await h.ec2.send(new GetInstanceMetadataDefaultsCommand({}));
    expect(got.AccountLevel).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, ManagedBy: 'account' });
    const [a] = await run();
    expect(a!.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    const [b] = await run({ MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 3 } });
    expect(b!.MetadataOptions).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 3 });
    await h.ec2.send(new ModifyInstanceMetadataDefaultsCommand({ HttpTokens: 'no-preference', HttpPutResponseHopLimit: -1 }));
    expect((await h.ec2.send(new GetInstanceMetadataDefaultsCommand({}))).AccountLevel).toEqual({ ManagedBy: 'account' });
  });

  it('HttpTokensEnforced=enabled fails launches whose effective tokens are not required', async () => {
    await h.ec2.send(new ModifyInstanceMetadataDefaultsCommand({ HttpTokensEnforced: 'enabled' }));
    expect((await h.ec2.send(new GetInstanceMetadataDefaultsCommand({}))).AccountLevel?.HttpTokensEnforced).toBe('enabled');
    const err = await errorOf(run());
    expect(err.name).toBe('UnsupportedOperation');
    const [ok] = await run({ MetadataOptions: { HttpTokens: 'required' } });
    expect(ok!.MetadataOptions?.HttpTokens).toBe('required');
  });
});

describe('misc EC2', () => {
  it('DescribeRegions lists the configured Regions', async () => {
    const out = await h.ec2.send(new DescribeRegionsCommand({}));
    expect(out.Regions!.map((r) => r.RegionName)).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-2']);
  });

  it('names unimplemented actions with InvalidAction', async () => {
    const err = await errorOf(h.ec2.send(new DescribeVpcsCommand({})));
    expect(err.name).toBe('InvalidAction');
    expect(err.message).toContain('DescribeVpcs');
  });
});
