import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  ModifyInstanceMetadataDefaultsCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import {
  CreateAddonCommand,
  CreateClusterCommand,
  CreateNodegroupCommand,
  CreatePodIdentityAssociationCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  ListAddonsCommand,
  ListNodegroupsCommand,
  ListPodIdentityAssociationsCommand,
  UpdateNodegroupVersionCommand,
  TagResourceCommand,
  paginateListClusters,
} from '@aws-sdk/client-eks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const cluster = (name: string) =>
  h.eks.send(
    new CreateClusterCommand({
      name,
      roleArn: 'arn:aws:iam::111122223333:role/eks',
      resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
      tags: { team: name },
    }),
  );

const nodegroup = (clusterName: string, nodegroupName: string, extra: Record<string, unknown> = {}) =>
  h.eks.send(
    new CreateNodegroupCommand({
      clusterName,
      nodegroupName,
      nodeRole: 'arn:aws:iam::111122223333:role/node',
      subnets: ['subnet-1', 'subnet-2'],
      ...extra,
    }),
  );

const nodes = async (ng: string, states = ['pending', 'running']): Promise<Instance[]> => {
  const out = await h.ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'tag:eks:nodegroup-name', Values: [ng] },
        { Name: 'instance-state-name', Values: states },
      ],
    }),
  );
  return out.Reservations!.flatMap((r) => r.Instances!);
};
const tagsOf = (i: Instance) => Object.fromEntries(i.Tags!.map((t) => [t.Key!, t.Value!]));

describe('clusters', () => {
  it('creates clusters with an OIDC issuer and paginates ListClusters', async () => {
    const { cluster: c } = await cluster('payments');
    expect(c!.identity!.oidc!.issuer).toMatch(/^https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    expect(c).toMatchObject({
      name: 'payments',
      status: 'ACTIVE',
      arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/payments',
      tags: { team: 'payments' },
    });
    expect(c!.createdAt).toBeInstanceOf(Date);
    for (const n of ['b', 'c', 'd', 'e']) await cluster(n);
    const pages: string[][] = [];
    for await (const p of paginateListClusters({ client: h.eks, pageSize: 2 }, {})) pages.push(p.clusters!);
    expect(pages).toEqual([['payments', 'b'], ['c', 'd'], ['e']]);
    const d = await h.eks.send(new DescribeClusterCommand({ name: 'payments' }));
    expect(d.cluster!.identity!.oidc!.issuer).toBe(c!.identity!.oidc!.issuer);
  });

  it('surfaces EKS errors with the SDK exception names', async () => {
    const nf = await errorOf(h.eks.send(new DescribeClusterCommand({ name: 'nope' })));
    expect(nf.name).toBe('ResourceNotFoundException');
    expect(nf.$metadata?.httpStatusCode).toBe(404);
    await cluster('payments');
    expect((await errorOf(cluster('payments'))).name).toBe('ResourceInUseException');
    const ngNf = await errorOf(h.eks.send(new DescribeNodegroupCommand({ clusterName: 'payments', nodegroupName: 'x' })));
    expect(ngNf.name).toBe('ResourceNotFoundException');
    const bad = await errorOf(nodegroup('payments', 'ng', { scalingConfig: { minSize: 3, maxSize: 4, desiredSize: 1 } }));
    expect(bad.name).toBe('InvalidParameterException');
    expect(bad.$metadata?.httpStatusCode).toBe(400);
    const unimpl = await errorOf(
      h.eks.send(new TagResourceCommand({ resourceArn: 'arn:aws:eks:eu-west-1:1:cluster/payments', tags: { a: 'b' } })),
    );
    expect(unimpl.name).toBe('UnsupportedOperation');
    expect(unimpl.message).toContain('TagResource');
  });
});

describe('managed node groups', () => {
  it("EKS's own template follows the AMI type: AL2 and Windows optional/2, AL2023 and Bottlerocket required/1", async () => {
    await cluster('payments');
    const expected: Record<string, { HttpTokens: string; HttpPutResponseHopLimit: number }> = {
      AL2_x86_64: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
      AL2023_x86_64_STANDARD: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      AL2023_ARM_64_STANDARD: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      BOTTLEROCKET_x86_64: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      WINDOWS_CORE_2022_x86_64: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
    };
    for (const [n, amiType] of Object.keys(expected).entries()) {
      await nodegroup('payments', `ng-${n}`, { amiType, scalingConfig: { minSize: 1, maxSize: 1, desiredSize: 1 } });
      const [node] = await nodes(`ng-${n}`);
      const { HttpTokens, HttpPutResponseHopLimit } = node!.MetadataOptions!;
      expect({ amiType, HttpTokens, HttpPutResponseHopLimit }).toEqual({ amiType, ...expected[amiType] });
    }
    // No AMI type: EKS's default for current Kubernetes versions, AL2023.
    const { nodegroup: ng } = await nodegroup('payments', 'ng-default', { scalingConfig: { minSize: 1, maxSize: 1, desiredSize: 1 } });
    expect(ng!.amiType).toBe('AL2023_x86_64_STANDARD');
    expect((await nodes('ng-default'))[0]!.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
  });

  it('without a launch template: EKS creates eks-<uuid> (AL2: optional/2) and launches tagged nodes', async () => {
    await cluster('payments');
    const { nodegroup: ng } = await nodegroup('payments', 'default-ng', {
      amiType: 'AL2_x86_64',
      scalingConfig: { minSize: 1, maxSize: 5, desiredSize: 3 },
      tags: { team: 'payments' },
    });
    expect(ng).toMatchObject({ status: 'ACTIVE', scalingConfig: { desiredSize: 3 }, tags: { team: 'payments' } });
    expect(ng!.launchTemplate).toBeUndefined(); // as in AWS for the default template
    const asg = ng!.resources!.autoScalingGroups![0]!.name!;
    expect(asg).toMatch(/^eks-default-ng-[0-9a-f-]{36}$/);

    const lts = await h.ec2.send(
      new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:eks:nodegroup-name', Values: ['default-ng'] }] }),
    );
    const lt = lts.LaunchTemplates![0]!;
    expect(lt.LaunchTemplateName).toMatch(/^eks-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Object.fromEntries(lt.Tags!.map((t) => [t.Key, t.Value]))).toEqual({
      'eks:cluster-name': 'payments',
      'eks:nodegroup-name': 'default-ng',
    });
    const v = await h.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId }));
    expect(v.LaunchTemplateVersions![0]!.LaunchTemplateData!.MetadataOptions).toEqual({
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 2,
    });

    const ns = await nodes('default-ng');
    expect(ns).toHaveLength(3);
    for (const n of ns) {
      expect(n.MetadataOptions).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 2 });
      expect(tagsOf(n)).toMatchObject({
        'eks:cluster-name': 'payments',
        'eks:nodegroup-name': 'default-ng',
        'aws:autoscaling:groupName': asg,
        'kubernetes.io/cluster/payments': 'owned',
        'aws:ec2launchtemplate:id': lt.LaunchTemplateId,
        'aws:ec2launchtemplate:version': '1',
      });
      expect(tagsOf(n).team).toBeUndefined(); // node group tags are not propagated to instances
    }
    expect(h.sb.state.region('eu-west-1').clusters.get('payments')!.nodegroups.get('default-ng')!.eksLaunchTemplate?.id).toBe(
      lt.LaunchTemplateId,
    );
    expect((await h.eks.send(new ListNodegroupsCommand({ clusterName: 'payments' }))).nodegroups).toEqual(['default-ng']);
  });

  it('flags edits of the EKS-created template with Ec2LaunchTemplateVersionMismatch', async () => {
    await cluster('payments');
    await nodegroup('payments', 'ng');
    const ltId = tagsOf((await nodes('ng'))[0]!)['aws:ec2launchtemplate:id']!;
    await h.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: ltId,
        SourceVersion: '1',
        LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } },
      }),
    );
    const { nodegroup: ng } = await h.eks.send(new DescribeNodegroupCommand({ clusterName: 'payments', nodegroupName: 'ng' }));
    expect(ng!.health!.issues!.map((i) => i.code)).toEqual(['Ec2LaunchTemplateVersionMismatch']);
  });

  it('with a custom template: nodes inherit it, UpdateNodegroupVersion rolls them onto a new version', async () => {
    await cluster('analytics');
    const { LaunchTemplate: lt } = await h.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'analytics-nodes',
        LaunchTemplateData: {
          ImageId: 'ami-custom',
          InstanceType: 'm6i.large',
          MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'team', Value: 'analytics' }] }],
        },
      }),
    );
    const { nodegroup: ng } = await nodegroup('analytics', 'custom', { launchTemplate: { id: lt!.LaunchTemplateId, version: '1' } });
    expect(ng!.launchTemplate).toEqual({ id: lt!.LaunchTemplateId, name: 'analytics-nodes', version: '1' });
    const before = await nodes('custom');
    expect(before).toHaveLength(2);
    expect(tagsOf(before[0]!)).toMatchObject({ team: 'analytics', 'aws:ec2launchtemplate:id': lt!.LaunchTemplateId });

    await h.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: lt!.LaunchTemplateId,
        SourceVersion: '1',
        LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 } },
      }),
    );
    const { update } = await h.eks.send(
      new UpdateNodegroupVersionCommand({
        clusterName: 'analytics',
        nodegroupName: 'custom',
        launchTemplate: { id: lt!.LaunchTemplateId, version: '2' },
      }),
    );
    expect(update).toMatchObject({ status: 'InProgress', type: 'VersionUpdate' });
    expect(update!.params).toContainEqual({ type: 'LaunchTemplateVersion', value: '2' });
    const after = await nodes('custom');
    expect(after).toHaveLength(2);
    expect(after.map((i) => i.InstanceId)).not.toContain(before[0]!.InstanceId);
    for (const n of after) expect(n.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(await nodes('custom', ['terminated'])).toHaveLength(2);
    const d = await h.eks.send(new DescribeUpdateCommand({ name: 'analytics', nodegroupName: 'custom', updateId: update!.id }));
    expect(d.update!.status).toBe('Successful');
    const { nodegroup: ng2 } = await h.eks.send(new DescribeNodegroupCommand({ clusterName: 'analytics', nodegroupName: 'custom' }));
    expect(ng2!.launchTemplate!.version).toBe('2');

    const other = await h.ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: 'other', LaunchTemplateData: { ImageId: 'ami-x' } }),
    );
    const change = await errorOf(
      h.eks.send(
        new UpdateNodegroupVersionCommand({
          clusterName: 'analytics',
          nodegroupName: 'custom',
          launchTemplate: { id: other.LaunchTemplate!.LaunchTemplateId, version: '1' },
        }),
      ),
    );
    expect(change.name).toBe('InvalidParameterException');
  });

  it('node launches obey IMDSv2 enforcement: the EKS default template (AL2) fails to launch', async () => {
    await h.ec2.send(new ModifyInstanceMetadataDefaultsCommand({ HttpTokensEnforced: 'enabled' }));
    await cluster('payments');
    const { nodegroup: ng } = await nodegroup('payments', 'ng', { amiType: 'AL2_x86_64' });
    expect(ng!.status).toBe('CREATE_FAILED');
    expect(ng!.health!.issues![0]!.code).toBe('AsgInstanceLaunchFailures');
    expect(await nodes('ng')).toHaveLength(0);
  });

  it('a rolling update that cannot launch under enforcement degrades the node group', async () => {
    await cluster('payments');
    await nodegroup('payments', 'ng', { amiType: 'AL2_x86_64' });
    await h.ec2.send(new ModifyInstanceMetadataDefaultsCommand({ HttpTokensEnforced: 'enabled' }));
    const { update } = await h.eks.send(
      new UpdateNodegroupVersionCommand({ clusterName: 'payments', nodegroupName: 'ng', releaseVersion: '1.31.1-20260201' }),
    );
    expect((await h.eks.send(new DescribeUpdateCommand({ name: 'payments', updateId: update!.id }))).update!.status).toBe('Failed');
    const { nodegroup: ng } = await h.eks.send(new DescribeNodegroupCommand({ clusterName: 'payments', nodegroupName: 'ng' }));
    expect(ng!.status).toBe('DEGRADED');
  });

  it('can report CREATING node groups and clusters when configured', async () => {
    h.sb.state.config.clusterStatus = 'CREATING';
    h.sb.state.config.nodegroupStatus = 'CREATING';
    try {
      expect((await cluster('c1')).cluster!.status).toBe('CREATING');
      expect((await nodegroup('c1', 'ng')).nodegroup!.status).toBe('CREATING');
    } finally {
      h.sb.state.config.clusterStatus = 'ACTIVE';
      h.sb.state.config.nodegroupStatus = 'ACTIVE';
    }
    expect((await errorOf(h.eks.send(new DeleteClusterCommand({ name: 'c1' })))).name).toBe('ResourceInUseException');
  });

  it('refuses UpdateNodegroupVersion while a node group is CREATING', async () => {
    await cluster('c1');
    const { LaunchTemplate: lt } = await h.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'creating',
        LaunchTemplateData: { ImageId: 'ami-1', InstanceType: 'm6i.large' },
      }),
    );
    await h.ec2.send(
      new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: lt!.LaunchTemplateId, SourceVersion: '1', LaunchTemplateData: {} }),
    );
    h.sb.state.config.nodegroupStatus = 'CREATING';
    try {
      await nodegroup('c1', 'ng', { launchTemplate: { id: lt!.LaunchTemplateId, version: '1' } });
    } finally {
      h.sb.state.config.nodegroupStatus = 'ACTIVE';
    }
    const update = () =>
      h.eks.send(
        new UpdateNodegroupVersionCommand({
          clusterName: 'c1',
          nodegroupName: 'ng',
          launchTemplate: { id: lt!.LaunchTemplateId, version: '2' },
        }),
      );
    expect(await errorOf(update())).toMatchObject({ name: 'ResourceInUseException', $metadata: { httpStatusCode: 409 } });
    h.sb.state.region('eu-west-1').clusters.get('c1')!.nodegroups.get('ng')!.status = 'ACTIVE';
    await update();
    expect(
      (await h.eks.send(new DescribeNodegroupCommand({ clusterName: 'c1', nodegroupName: 'ng' }))).nodegroup!.launchTemplate!.version,
    ).toBe('2');
  });
});

describe('workload identity', () => {
  it('adds the pod identity agent and associations', async () => {
    await cluster('analytics');
    const { addon } = await h.eks.send(new CreateAddonCommand({ clusterName: 'analytics', addonName: 'eks-pod-identity-agent' }));
    expect(addon).toMatchObject({ addonName: 'eks-pod-identity-agent', status: 'ACTIVE', clusterName: 'analytics' });
    expect((await h.eks.send(new ListAddonsCommand({ clusterName: 'analytics' }))).addons).toEqual(['eks-pod-identity-agent']);
    const { association } = await h.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'analytics',
        namespace: 'jobs',
        serviceAccount: 'spark',
        roleArn: 'arn:aws:iam::111122223333:role/spark',
      }),
    );
    expect(association!.associationId).toMatch(/^a-[0-9a-z]{17}$/);
    const list = await h.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'analytics' }));
    expect(list.associations).toEqual([
      {
        clusterName: 'analytics',
        namespace: 'jobs',
        serviceAccount: 'spark',
        associationArn: association!.associationArn,
        associationId: association!.associationId,
      },
    ]);
    expect(
      (await h.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'analytics', namespace: 'other' }))).associations,
    ).toEqual([]);
  });
});
