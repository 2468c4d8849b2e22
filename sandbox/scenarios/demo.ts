// The demo estate, built only through public AWS APIs with the real SDK
// clients, so the same seeding works against the sandbox or LocalStack.
import {
  EC2Client,
  CreateLaunchTemplateCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  type Instance,
  type Tag,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import {
  EKSClient,
  CreateAddonCommand,
  CreateClusterCommand,
  CreateNodegroupCommand,
  CreatePodIdentityAssociationCommand,
  type AMITypes,
} from '@aws-sdk/client-eks';
// client-iam is present as a dev (transitive) dependency; only the demo uses it.
import { IAMClient, CreateOpenIDConnectProviderCommand } from '@aws-sdk/client-iam';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { launchNodegroupNodes, optionalApi } from './emulator-gaps.js';

export interface DemoEnv {
  endpoint: string;
  /** Default eu-west-1. */
  region?: string;
  /** Default: fixed fake keys (never the default credential chain). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

interface ClusterInfo {
  name: string;
  arn: string;
  oidcIssuer: string;
}

export interface DemoInfo {
  region: string;
  accountId: string;
  clusters: { payments: ClusterInfo; analytics: ClusterInfo };
  /** IRSA for `payments`: its OIDC issuer registered in IAM. */
  oidcProviderArn: string;
  nodegroups: {
    /** AL2 (legacy) with the EKS default template (`eks-<uuid>`, tokens optional, hop 2), 3 nodes, tags team=payments. */
    paymentsDefault: { clusterName: string; nodegroupName: string; launchTemplateId: string; instanceIds: string[] };
    /** Custom template `analytics-nodes` (tokens optional, hop 2, tagged team=analytics), 2 nodes. */
    analyticsCustom: {
      clusterName: string;
      nodegroupName: string;
      launchTemplateId: string;
      launchTemplateName: string;
      instanceIds: string[];
    };
  };
  /** Compliant Karpenter nodes (tokens required, hop 1). */
  karpenterInstanceIds: string[];
  /** Self-managed `payments` nodes: the two cases a one-setting-at-a-time filter misses. */
  selfManaged: { optionalHop1: string; requiredHop2: string };
  /** Non-compliant, but not an EKS node. */
  bastionInstanceId: string;
  /** EKS node, non-compliant, tagged `imds-guard:exempt=true`. */
  exemptInstanceId: string;
  /** Pod Identity for `analytics`. */
  podIdentity: { addonName: string; associationId: string };
  /** EKS nodes that violate tokens=required/hop≤1 and are not exempt (10: 7 above, the Windows node and the 2 eksctl nodes). */
  expectedNonCompliantNodes: string[];
  /** APIs the endpoint does not implement (moto: CreateAddon, ...); the seed went on without them. */
  missingApis: string[];
  /** Today's node groups in `payments` (one node each), by AMI type; see sandbox/services/eks-ami-defaults.ts. */
  modernNodegroups: ModernNodegroups;
}

interface DemoNodegroup {
  clusterName: string;
  nodegroupName: string;
  amiType: string;
  launchTemplateId: string;
  instanceIds: string[];
}

interface ModernNodegroups {
  /** AL2023: EKS's template has tokens required, hop limit 1 (compliant, left alone). */
  al2023: DemoNodegroup;
  /** Bottlerocket: modelled like AL2023 (required, 1; unconfirmed). */
  bottlerocket: DemoNodegroup;
  /** Windows: modelled with the legacy template (optional, 2; unconfirmed). */
  windows: DemoNodegroup;
  /** eksctl self-managed nodes (Auto Scaling, eksctl's template: required, hop limit 2), 2 nodes. */
  eksctl: { clusterName: string; nodegroupName: string; launchTemplateId: string; instanceIds: string[] };
}

const AMI = 'ami-0abcdef1234567890';
const SUBNETS = ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'];
const tags = (t: Record<string, string>): Tag[] => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

export async function seedDemo(env: DemoEnv): Promise<DemoInfo> {
  const region = env.region ?? 'eu-west-1';
  const cfg = {
    endpoint: env.endpoint,
    region,
    credentials: env.credentials ?? { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox-secret' },
  };
  const ec2 = new EC2Client(cfg);
  const eks = new EKSClient(cfg);
  const iam = new IAMClient(cfg);
  const { Account: accountId = '111122223333' } = await new STSClient(cfg).send(new GetCallerIdentityCommand({}));
  const role = (n: string) => `arn:aws:iam::${accountId}:role/${n}`;

  const clusters = {} as DemoInfo['clusters'];
  for (const name of ['payments', 'analytics'] as const) {
    const { cluster } = await eks.send(
      new CreateClusterCommand({
        name,
        roleArn: role('eks-cluster'),
        resourcesVpcConfig: { subnetIds: SUBNETS },
        tags: { team: name },
      }),
    );
    clusters[name] = { name, arn: cluster?.arn ?? '', oidcIssuer: cluster?.identity?.oidc?.issuer ?? '' };
  }

  const { OpenIDConnectProviderArn: oidcProviderArn = '' } = await iam.send(
    new CreateOpenIDConnectProviderCommand({
      Url: clusters.payments.oidcIssuer,
      ClientIDList: ['sts.amazonaws.com'],
      ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
    }),
  );
  const missingApis: string[] = [];
  await optionalApi('CreateAddon', missingApis, () =>
    eks.send(new CreateAddonCommand({ clusterName: 'analytics', addonName: 'eks-pod-identity-agent' })),
  );
  const { association } =
    (await optionalApi('CreatePodIdentityAssociation', missingApis, () =>
      eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: 'analytics',
          namespace: 'analytics',
          serviceAccount: 'spark-jobs',
          roleArn: role('analytics-spark'),
        }),
      ),
    )) ?? {};

  const nodesOf = async (cluster: string, nodegroup: string) => {
    const out = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:eks:cluster-name', Values: [cluster] },
          { Name: 'tag:eks:nodegroup-name', Values: [nodegroup] },
          { Name: 'instance-state-name', Values: ['pending', 'running'] },
        ],
      }),
    );
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  };

  await eks.send(
    new CreateNodegroupCommand({
      clusterName: 'payments',
      nodegroupName: 'payments-default',
      nodeRole: role('eks-node'),
      subnets: SUBNETS,
      // The legacy AMI type: EKS's template for AL2 has tokens optional, hop limit 2.
      amiType: 'AL2_x86_64',
      scalingConfig: { minSize: 1, maxSize: 5, desiredSize: 3 },
      tags: { team: 'payments', owner: 'payments-oncall@example.com' },
    }),
  );
  let paymentsNodes = await nodesOf('payments', 'payments-default');
  let eksLtId = paymentsNodes[0]?.Tags?.find((t) => t.Key === 'aws:ec2launchtemplate:id')?.Value ?? '';
  if (paymentsNodes.length === 0) {
    // The endpoint's CreateNodegroup launched no nodes (moto): launch them as the node group's ASG would.
    const nodes = await launchNodegroupNodes(ec2, {
      ...{ cluster: 'payments', nodegroup: 'payments-default', count: 3, imageId: AMI },
      metadata: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
    });
    [paymentsNodes, eksLtId] = [nodes.instances, nodes.launchTemplateId];
  }

  const { LaunchTemplate: lt } = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'analytics-nodes',
      VersionDescription: 'initial',
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags({ team: 'analytics', owner: 'analytics-oncall@example.com' }) }],
      LaunchTemplateData: {
        ImageId: AMI,
        InstanceType: 'm6i.large',
        MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' },
        TagSpecifications: [{ ResourceType: 'instance', Tags: tags({ team: 'analytics', owner: 'analytics-oncall@example.com' }) }],
      },
    }),
  );
  await eks.send(
    new CreateNodegroupCommand({
      clusterName: 'analytics',
      nodegroupName: 'analytics-custom',
      nodeRole: role('eks-node'),
      subnets: SUBNETS,
      scalingConfig: { minSize: 1, maxSize: 4, desiredSize: 2 },
      launchTemplate: { id: lt?.LaunchTemplateId, version: '1' },
      tags: { team: 'analytics' },
    }),
  );
  let analyticsNodes = await nodesOf('analytics', 'analytics-custom');
  if (analyticsNodes.length === 0) {
    const lt1 = { id: lt?.LaunchTemplateId ?? '', version: '1' };
    const nodes = await launchNodegroupNodes(ec2, {
      ...{ cluster: 'analytics', nodegroup: 'analytics-custom', count: 2, imageId: AMI, launchTemplate: lt1 },
      metadata: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
    });
    analyticsNodes = nodes.instances;
  }

  const run = async (
    input: Omit<RunInstancesCommandInput, 'MinCount' | 'MaxCount' | 'ImageId'>,
    count = 1,
    t: Record<string, string> = {},
  ) => {
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: AMI,
        InstanceType: 't3.medium',
        MinCount: count,
        MaxCount: count,
        TagSpecifications: [{ ResourceType: 'instance', Tags: tags(t) }],
        ...input,
      }),
    );
    return (out.Instances ?? []).map((i) => i.InstanceId ?? '');
  };
  const karpenterInstanceIds = await run(
    { InstanceType: 'c6i.xlarge', MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' } },
    2,
    {
      'karpenter.sh/nodepool': 'default',
      'karpenter.k8s.aws/ec2nodeclass': 'default',
      'eks:eks-cluster-name': 'analytics',
      'kubernetes.io/cluster/analytics': 'owned',
      team: 'analytics',
    },
  );
  const selfTags = (name: string) => ({
    Name: name,
    'kubernetes.io/cluster/payments': 'owned',
    team: 'payments',
    owner: 'payments-oncall@example.com',
  });
  const [optionalHop1 = ''] = await run(
    { MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 1 } },
    1,
    selfTags('payments-self-a'),
  );
  const [requiredHop2 = ''] = await run(
    { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 } },
    1,
    selfTags('payments-self-b'),
  );
  const [bastionInstanceId = ''] = await run({ MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 1 } }, 1, {
    Name: 'bastion',
    owner: 'platform@example.com',
  });
  const [exemptInstanceId = ''] = await run({ MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 } }, 1, {
    ...selfTags('payments-legacy'),
    'imds-guard:exempt': 'true',
  });

  const ids = (xs: { InstanceId?: string }[]) => xs.map((i) => i.InstanceId ?? '');
  const modernNodegroups = await seedModern({ ec2, eks, role, nodesOf, run });
  return {
    region,
    accountId,
    clusters,
    oidcProviderArn,
    nodegroups: {
      paymentsDefault: {
        clusterName: 'payments',
        nodegroupName: 'payments-default',
        launchTemplateId: eksLtId,
        instanceIds: ids(paymentsNodes),
      },
      analyticsCustom: {
        clusterName: 'analytics',
        nodegroupName: 'analytics-custom',
        launchTemplateId: lt?.LaunchTemplateId ?? '',
        launchTemplateName: 'analytics-nodes',
        instanceIds: ids(analyticsNodes),
      },
    },
    karpenterInstanceIds,
    selfManaged: { optionalHop1, requiredHop2 },
    bastionInstanceId,
    exemptInstanceId,
    podIdentity: { addonName: 'eks-pod-identity-agent', associationId: association?.associationId ?? '' },
    expectedNonCompliantNodes: [
      ...ids(paymentsNodes),
      ...ids(analyticsNodes),
      optionalHop1,
      requiredHop2,
      ...modernNodegroups.windows.instanceIds,
      ...modernNodegroups.eksctl.instanceIds,
    ],
    modernNodegroups,
    missingApis,
  };
}

interface SeedTools {
  ec2: EC2Client;
  eks: EKSClient;
  role: (n: string) => string;
  nodesOf: (cluster: string, nodegroup: string) => Promise<Instance[]>;
  run: (
    input: Omit<RunInstancesCommandInput, 'MinCount' | 'MaxCount' | 'ImageId'>,
    count?: number,
    t?: Record<string, string>,
  ) => Promise<string[]>;
}

/** One managed node group per current AMI type (EKS's own template each), and eksctl self-managed nodes. */
async function seedModern({ ec2, eks, role, nodesOf, run }: SeedTools): Promise<ModernNodegroups> {
  const managed = async (nodegroupName: string, amiType: AMITypes): Promise<DemoNodegroup> => {
    await eks.send(
      new CreateNodegroupCommand({
        clusterName: 'payments',
        nodegroupName,
        nodeRole: role('eks-node'),
        subnets: SUBNETS,
        amiType,
        scalingConfig: { minSize: 1, maxSize: 3, desiredSize: 1 },
        tags: { team: 'payments', owner: 'payments-oncall@example.com' },
      }),
    );
    const nodes = await nodesOf('payments', nodegroupName);
    const launchTemplateId = nodes[0]?.Tags?.find((t) => t.Key === 'aws:ec2launchtemplate:id')?.Value ?? '';
    return { clusterName: 'payments', nodegroupName, amiType, launchTemplateId, instanceIds: nodes.map((i) => i.InstanceId ?? '') };
  };
  const al2023 = await managed('payments-al2023', 'AL2023_x86_64_STANDARD');
  const bottlerocket = await managed('payments-bottlerocket', 'BOTTLEROCKET_x86_64');
  const windows = await managed('payments-windows', 'WINDOWS_CORE_2022_x86_64');
  // eksctl's self-managed node group: a CloudFormation launch template with eksctl's defaults
  // (disableIMDSv1 true -> tokens required; disablePodIMDS false -> hop limit 2), launched by Auto Scaling.
  const eksctlTags = {
    Name: 'payments-ng-eksctl-Node',
    'alpha.eksctl.io/cluster-name': 'payments',
    'alpha.eksctl.io/nodegroup-name': 'ng-eksctl',
    'alpha.eksctl.io/nodegroup-type': 'unmanaged',
    'kubernetes.io/cluster/payments': 'owned',
    team: 'payments',
    owner: 'payments-oncall@example.com',
  };
  const { LaunchTemplate: lt } = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'eksctl-payments-nodegroup-ng-eksctl',
      LaunchTemplateData: {
        ImageId: AMI,
        InstanceType: 'm6i.large',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
        TagSpecifications: [{ ResourceType: 'instance', Tags: tags(eksctlTags) }],
      },
    }),
  );
  const launchTemplateId = lt?.LaunchTemplateId ?? '';
  const eksctlIds = await run({ LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '1' } }, 2, eksctlTags);
  return {
    al2023,
    bottlerocket,
    windows,
    eksctl: { clusterName: 'payments', nodegroupName: 'ng-eksctl', launchTemplateId, instanceIds: eksctlIds },
  };
}
