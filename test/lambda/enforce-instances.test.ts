import { DescribeInstancesCommand, EC2Client, ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeClusterCommand, DescribeNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clone, loadEvent } from '../helpers/events.js';
import { TOPIC, lambdaContext, loadFunction } from '../helpers/lambda.js';

type Mod = typeof import('../../functions/enforce-instances.js');
const ec2 = mockClient(EC2Client);
const sns = mockClient(SNSClient);
// Owner routing may read a node group's tags; no test here reaches a real endpoint.
const eks = mockClient(EKSClient);

// The identity gate has its own tests; these stay on EC2 and SNS.
const env = { TOPIC_ARN: TOPIC, SELF_ROLE_NAMES: 'imds-guard-enforce-instances', MAX_ATTEMPTS: '3', IDENTITY_GATE: 'off' };

function nodeItem(n: number, owner: string, tokens = 'optional', hop = 2) {
  return {
    instanceId: `i-0000000000000${String(n).padStart(4, '0')}`,
    tagSet: {
      items: [
        { key: 'kubernetes.io/cluster/payments', value: 'owned' },
        { key: 'owner', value: owner },
      ],
    },
    metadataOptions: { state: 'pending', httpTokens: tokens, httpPutResponseHopLimit: hop, httpEndpoint: 'enabled' },
  };
}

function runEvent(items: unknown[]) {
  const e = clone(loadEvent('run-instances-direct-3'));
  e.detail.responseElements.instancesSet.items = items;
  // Request tags apply to every instance; these tests give each instance its own tag set.
  delete e.detail.requestParameters.tagSpecificationSet;
  return e;
}

function publishes() {
  return sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

beforeEach(() => {
  ec2.reset();
  sns.reset();
  eks.reset();
  eks.on(DescribeNodegroupCommand).resolves({ nodegroup: { tags: { team: 'payments-from-nodegroup' } } });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ec2.on(ModifyInstanceMetadataOptionsCommand).callsFake((input) => ({
    InstanceId: input.InstanceId,
    InstanceMetadataOptions: {
      State: 'pending',
      HttpTokens: input.HttpTokens,
      HttpPutResponseHopLimit: input.HttpPutResponseHopLimit ?? 9,
      HttpEndpoint: 'enabled',
    },
    $metadata: { requestId: 'rid-1' },
  }));
});
afterEach(() => vi.unstubAllEnvs());

describe('enforce-instances handler', () => {
  it('N non-compliant EKS nodes in the event: N modifies, zero describes, one publish per owner', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    const items = [
      nodeItem(1, 'alice'),
      nodeItem(2, 'alice', 'optional', 1),
      nodeItem(3, 'bob', 'required', 2),
      nodeItem(4, 'bob'),
      nodeItem(5, 'carol'),
    ];
    const res = await handler(runEvent(items), lambdaContext());
    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 5);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 0);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 3);
    expect(
      publishes()
        .map((p) => p.MessageAttributes?.owner?.StringValue)
        .sort(),
    ).toEqual(['alice', 'bob', 'carol']);
    // Every call carries HttpTokens=required, including the hop-only fix.
    for (const c of ec2.commandCalls(ModifyInstanceMetadataOptionsCommand)) {
      expect(c.args[0].input).toEqual({ InstanceId: expect.any(String), HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    }
    expect(res).toMatchObject({ status: 'done', counts: { remediated: 5 } });
  });

  it('describes only what the event is missing, in one batch', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    const items = [nodeItem(1, 'alice'), { instanceId: 'i-00000000000000099' }];
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-00000000000000099',
              State: { Name: 'running' },
              Tags: [
                { Key: 'eks:cluster-name', Value: 'payments' },
                { Key: 'eks:nodegroup-name', Value: 'ng' },
              ],
              MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
            },
          ],
        },
      ],
    });
    await handler(runEvent(items), lambdaContext());
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: ['i-00000000000000099'] });
    expect(ec2).toHaveReceivedCommandWith(ModifyInstanceMetadataOptionsCommand, {
      InstanceId: 'i-00000000000000099',
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 1,
    });
  });

  it('a managed node group node without an owner tag is routed by the node group tags', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    const item = {
      ...nodeItem(7, 'x'),
      tagSet: {
        items: [
          { key: 'eks:cluster-name', value: 'payments' },
          { key: 'eks:nodegroup-name', value: 'ng-a' },
          { key: 'aws:autoscaling:groupName', value: 'asg' },
        ],
      },
    };
    const res = await handler(runEvent([item, { ...item, instanceId: 'i-00000000000000008' }]), lambdaContext());
    expect(res).toMatchObject({
      decisions: [
        expect.objectContaining({ owner: 'payments-from-nodegroup' }),
        expect.objectContaining({ owner: 'payments-from-nodegroup' }),
      ],
    });
    // Once per node group, not per instance.
    expect(eks).toHaveReceivedCommandTimes(DescribeNodegroupCommand, 1);
    expect(eks).toHaveReceivedCommandWith(DescribeNodegroupCommand, { clusterName: 'payments', nodegroupName: 'ng-a' });
  });

  it("a node's own owner tag does not redirect its alert: the node group's owner wins unless OWNER_SOURCE=instance-first", async () => {
    const item = {
      ...nodeItem(9, 'x'),
      tagSet: {
        items: [
          { key: 'eks:cluster-name', value: 'payments' },
          { key: 'eks:nodegroup-name', value: 'ng-a' },
          { key: 'aws:autoscaling:groupName', value: 'asg' },
          // Whoever can tag the instance (or runs on it) sets this.
          { key: 'owner', value: 'attacker-channel' },
        ],
      },
    };
    const routed = async (extra: Record<string, string>) => {
      const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', { ...env, ...extra });
      await handler(runEvent([item]), lambdaContext());
      const body = JSON.parse(JSON.parse(sns.commandCalls(PublishCommand).at(-1)!.args[0].input.Message!).lambda);
      return body.records.map((r: any) => [r.resource.owner, r.details.ownerSource]);
    };
    expect(await routed({})).toEqual([['payments-from-nodegroup', 'nodegroup']]);
    expect(await routed({ OWNER_SOURCE: 'instance-first' })).toEqual([['attacker-channel', 'instance']]);
  });

  it("a node with no node group owner is routed by its cluster's owner tag, read once per cluster", async () => {
    eks.on(DescribeClusterCommand, { name: 'payments' }).resolves({ cluster: { name: 'payments', tags: { owner: 'payments-cluster' } } });
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    const karpenter = (n: number) => ({
      ...nodeItem(n, 'x'),
      tagSet: {
        items: [
          { key: 'karpenter.sh/nodepool', value: 'default' },
          { key: 'eks:eks-cluster-name', value: 'payments' },
          { key: 'owner', value: 'node-says-so' },
        ],
      },
    });
    await handler(runEvent([karpenter(11), karpenter(12)]), lambdaContext());
    const body = JSON.parse(JSON.parse(sns.commandCalls(PublishCommand).at(-1)!.args[0].input.Message!).lambda);
    expect(body.records.map((r: any) => [r.resource.owner, r.details.ownerSource])).toEqual([
      ['payments-cluster', 'cluster'],
      ['payments-cluster', 'cluster'],
    ]);
    expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 1);
  });

  it('an exemption set by a CreateTags event records who set it and when', async () => {
    const e = clone(loadEvent('create-tags-eks-cluster-name'));
    const target = e.detail.requestParameters.resourcesSet.items[0];
    e.detail.requestParameters.resourcesSet.items = [target];
    e.detail.requestParameters.tagSet.items = [{ key: 'imds-guard:exempt', value: 'true' }];
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: target.resourceId,
              State: { Name: 'running' },
              Tags: [
                { Key: 'kubernetes.io/cluster/payments', Value: 'owned' },
                { Key: 'imds-guard:exempt', Value: 'true' },
              ],
              MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' },
            },
          ],
        },
      ],
    });
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    await handler(e, lambdaContext());
    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 0);
    const body = JSON.parse(JSON.parse(sns.commandCalls(PublishCommand).at(-1)!.args[0].input.Message!).lambda);
    expect(body.records[0]).toMatchObject({
      outcome: 'exempt',
      details: { exemption: { setBy: e.detail.userIdentity.arn, setAt: e.detail.eventTime, event: 'CreateTags' } },
    });
  });

  it('describes more than 1000 missing IDs in batches of at most 1000', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', { ...env, MODE: 'dry-run' });
    const ids = Array.from({ length: 2300 }, (_, n) => `i-${(n + 1).toString(16).padStart(17, '0')}`);
    ec2.on(DescribeInstancesCommand).callsFake((input) => ({
      Reservations: [
        {
          Instances: input.InstanceIds.map((id: string) => ({
            InstanceId: id,
            State: { Name: 'running' },
            Tags: [],
            MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
          })),
        },
      ],
    }));
    const e = clone(loadEvent('create-fleet-karpenter'));
    e.detail.responseElements = { CreateFleetResponse: { fleetInstanceSet: { item: { instanceIds: { item: ids } } } } };
    await handler(e, lambdaContext());
    const sizes = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.InstanceIds!.length);
    expect(sizes).toEqual([1000, 1000, 300]);
  });

  it('dry-run makes zero mutating calls and reports would-remediate', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', { ...env, MODE: 'dry-run' });
    const res = await handler(runEvent([nodeItem(1, 'alice'), nodeItem(2, 'bob')]), lambdaContext());
    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 0);
    expect(res).toMatchObject({ counts: { 'would-remediate': 2 } });
    const body = JSON.parse(publishes()[0]!.Message!);
    const audit = JSON.parse(body.default);
    expect(audit.records[0]).toMatchObject({
      outcome: 'would-remediate',
      mode: 'dry-run',
      desired: { httpTokens: 'required', hopLimit: 1 },
    });
  });

  // aws-sdk-client-mock replaces send(), so SDK retries are not exercised here: see test/shell/retry.test.ts.
  it('not-found becomes gone; errors that survive retries become failed records', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    const notFound = Object.assign(new Error("The instance ID 'i-00000000000000002' does not exist"), {
      name: 'InvalidInstanceID.NotFound',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    const denied = Object.assign(new Error('not authorized'), {
      name: 'UnauthorizedOperation',
      $fault: 'client',
      $metadata: { httpStatusCode: 403, requestId: 'rid-denied' },
    });
    ec2
      .on(ModifyInstanceMetadataOptionsCommand, { InstanceId: 'i-00000000000000001' })
      .resolves({
        InstanceId: 'i-00000000000000001',
        InstanceMetadataOptions: { State: 'pending', HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      })
      .on(ModifyInstanceMetadataOptionsCommand, { InstanceId: 'i-00000000000000002' })
      .rejects(notFound)
      .on(ModifyInstanceMetadataOptionsCommand, { InstanceId: 'i-00000000000000003' })
      .rejects(denied);
    const res = await handler(runEvent([nodeItem(1, 'a'), nodeItem(2, 'a'), nodeItem(3, 'a')]), lambdaContext());
    expect(res).toMatchObject({ counts: { remediated: 1, gone: 1, failed: 1 } });
    const audit = JSON.parse(JSON.parse(publishes()[0]!.Message!).default);
    const failed = audit.records.find((r: any) => r.outcome === 'failed');
    expect(failed).toMatchObject({ error: { name: 'UnauthorizedOperation' }, requestId: 'rid-denied', severity: 'high' });
    expect(publishes()[0]!.MessageAttributes!.outcome!.StringValue).toBe('failed');
  });

  it('compliant, out-of-scope and exempt are not published by default', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    const exempt = nodeItem(3, 'x');
    exempt.tagSet.items.push({ key: 'imds-guard:exempt', value: 'true' });
    const plain = { ...nodeItem(2, 'x'), tagSet: { items: [{ key: 'Name', value: 'bastion' }] } };
    const res = await handler(runEvent([nodeItem(1, 'x', 'required', 1), plain, exempt]), lambdaContext());
    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 0);
    expect(res).toMatchObject({ counts: { compliant: 1, 'out-of-scope': 1, exempt: 1 } });
    const audit = JSON.parse(JSON.parse(publishes()[0]!.Message!).default);
    expect(audit.records.map((r: any) => r.outcome)).toEqual(['exempt']);
  });

  it('scope=all takes non-EKS instances too', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', { ...env, SCOPE: 'all' });
    const plain = { ...nodeItem(2, 'x'), tagSet: { items: [{ key: 'Name', value: 'bastion' }] } };
    await handler(runEvent([plain]), lambdaContext());
    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceMetadataOptionsCommand, 1);
  });

  it('malformed, failed-call and self-caused events make no AWS call and do not throw', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    const self = clone(loadEvent('modify-metadata-options-revert'));
    self.detail.userIdentity.arn = 'arn:aws:sts::111122223333:assumed-role/imds-guard-enforce-instances/x';
    self.detail.userIdentity.sessionContext.sessionIssuer = {
      type: 'Role',
      arn: 'arn:aws:iam::111122223333:role/imds-guard-enforce-instances',
    };
    expect(await handler({ hello: 'world' }, lambdaContext())).toMatchObject({ status: 'invalid' });
    expect(await handler(loadEvent('run-instances-failed'), lambdaContext())).toMatchObject({ status: 'ignored', reason: 'failed-call' });
    expect(await handler(self, lambdaContext())).toMatchObject({ status: 'ignored', reason: 'self-caused' });
    expect(ec2.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it('an SNS failure fails the invocation so Lambda retries and the DLQ keeps it', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', { ...env, MAX_ATTEMPTS: '1' });
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException', $fault: 'client', $metadata: {} }));
    await expect(handler(runEvent([nodeItem(1, 'a')]), lambdaContext())).rejects.toThrow(/KMS/);
  });

  it('an invalid configuration fails at cold start, naming the variable', async () => {
    await expect(loadFunction<Mod>('../../functions/enforce-instances.js', { ...env, MAX_HOP_LIMIT: '100' })).rejects.toThrow(
      /MAX_HOP_LIMIT/,
    );
    vi.unstubAllEnvs();
    await expect(loadFunction<Mod>('../../functions/enforce-instances.js', { ...env, TOPIC_ARN: '' })).rejects.toThrow(/TOPIC_ARN/);
  });
});
