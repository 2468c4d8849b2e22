import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateAddonCommand,
  CreateClusterCommand,
  CreateNodegroupCommand,
  DeleteNodegroupCommand,
  DescribeAddonCommand,
} from '@aws-sdk/client-eks';
import {
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  ListOpenIDConnectProvidersCommand,
} from '@aws-sdk/client-iam';
import {
  CreateTopicCommand,
  ListTopicsCommand,
  SubscribeCommand,
  UnsubscribeCommand,
  ListSubscriptionsByTopicCommand,
} from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

describe('remaining operations', () => {
  it('DeleteLaunchTemplate', async () => {
    const { LaunchTemplate: lt } = await h.ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: 'gone', LaunchTemplateData: { ImageId: 'ami-1' } }),
    );
    await h.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: lt!.LaunchTemplateId }));
    expect((await h.ec2.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates).toEqual([]);
  });

  it('DeleteNodegroup terminates its nodes and the EKS template; DescribeAddon', async () => {
    await h.eks.send(new CreateClusterCommand({ name: 'c', roleArn: 'arn:aws:iam::1:role/r', resourcesVpcConfig: {} }));
    await h.eks.send(
      new CreateNodegroupCommand({ clusterName: 'c', nodegroupName: 'ng', nodeRole: 'arn:aws:iam::1:role/n', subnets: ['subnet-1'] }),
    );
    const del = await h.eks.send(new DeleteNodegroupCommand({ clusterName: 'c', nodegroupName: 'ng' }));
    expect(del.nodegroup!.status).toBe('DELETING');
    const running = await h.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }));
    expect(running.Reservations).toEqual([]);
    expect(h.sb.state.region('eu-west-1').launchTemplates.size).toBe(0);
    await h.eks.send(new CreateAddonCommand({ clusterName: 'c', addonName: 'vpc-cni', addonVersion: 'v1.19.0-eksbuild.1' }));
    expect((await h.eks.send(new DescribeAddonCommand({ clusterName: 'c', addonName: 'vpc-cni' }))).addon!.addonVersion).toBe(
      'v1.19.0-eksbuild.1',
    );
    expect((await errorOf(h.eks.send(new DescribeAddonCommand({ clusterName: 'c', addonName: 'x' })))).name).toBe(
      'ResourceNotFoundException',
    );
  });

  it('SNS ListTopics / Unsubscribe, IAM DeleteOpenIDConnectProvider', async () => {
    const { TopicArn } = await h.sns.send(new CreateTopicCommand({ Name: 't1' }));
    expect((await h.sns.send(new ListTopicsCommand({}))).Topics).toEqual([{ TopicArn }]);
    const { SubscriptionArn } = await h.sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: 'https://hooks.example.com/x' }),
    );
    await h.sns.send(new UnsubscribeCommand({ SubscriptionArn }));
    expect((await h.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions).toEqual([]);
    const { OpenIDConnectProviderArn } = await h.iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://oidc.example.com/id/1' }));
    await h.iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn }));
    expect((await h.iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList).toEqual([]);
  });
});

describe('env()', () => {
  it('points an unconfigured SDK client at the sandbox through AWS_ENDPOINT_URL', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, h.sb.env('ap-southeast-2'));
    try {
      const client = new EC2Client({ maxAttempts: 1 });
      await client.send(new DescribeInstancesCommand({}));
      expect(h.sb.stats().calls.DescribeInstances).toBe(1);
      expect(h.sb.state.regions().map((r) => r.name)).toContain('ap-southeast-2');
    } finally {
      process.env = saved;
    }
  });
});
