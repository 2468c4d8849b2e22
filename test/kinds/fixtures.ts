// Shared set-up for the launch-template and node-group kind tests: settings, a trigger, and seeding through
// the sandbox's public EC2/EKS APIs.
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateNodegroupCommand, type CreateNodegroupCommandInput } from '@aws-sdk/client-eks';
import type { Trigger } from '../../lib/domain/cloudtrail.js';
import type { Settings as InstanceSettings } from '../../lib/domain/scope.js';
import type { PolicyFor } from '../../lib/shell/identity.js';
import { loadConfig } from '../../lib/shell/config.js';
import { settingsFrom } from '../../lib/shell/settings.js';
import type { Harness } from '../helpers/sandbox.js';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';

/** The settings a Lambda gets with the default configuration (scope eks, exempt tag imds-guard:exempt=true). */
export const settings = (env: Record<string, string> = {}): InstanceSettings => settingsFrom(loadConfig({ MODE: 'enforce', ...env }));

/** Hop limit 1, no identity gate. */
export const policyFor: PolicyFor = async () => ({ policy: { maxHopLimit: 1 }, notes: [] });

export const trigger: Trigger = {
  source: 'cloudtrail',
  eventName: 'CreateLaunchTemplate',
  eventId: 'evt-1',
  eventTime: '2026-01-01T00:00:00Z',
  actor: `arn:aws:iam::${ACCOUNT}:user/alice`,
  region: REGION,
  account: ACCOUNT,
};

/** Launch template data for EKS nodes of `cluster`, with the given MetadataOptions. */
export function nodeData(tokens: 'optional' | 'required', hop: number, extra: RequestLaunchTemplateData = {}): RequestLaunchTemplateData {
  return {
    ImageId: 'ami-0abcdef1234567890',
    InstanceType: 'm5.large',
    MetadataOptions: { HttpTokens: tokens, HttpPutResponseHopLimit: hop },
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'eks:cluster-name', Value: 'c1' }] }],
    ...extra,
  };
}

export async function createTemplate(h: Harness, name: string, data: RequestLaunchTemplateData, tags: Record<string, string> = {}) {
  const out = await h.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: name,
      LaunchTemplateData: data,
      ...(Object.keys(tags).length
        ? { TagSpecifications: [{ ResourceType: 'launch-template', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] }
        : {}),
    }),
  );
  return out.LaunchTemplate!.LaunchTemplateId!;
}

export async function addVersion(h: Harness, id: string, data: RequestLaunchTemplateData): Promise<number> {
  const out = await h.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: data }));
  return out.LaunchTemplateVersion!.VersionNumber!;
}

/** Every version of a template, oldest first. */
export async function versions(h: Harness, id: string) {
  const out = await h.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }));
  return out.LaunchTemplateVersions!.sort((a, b) => a.VersionNumber! - b.VersionNumber!);
}

export async function templateOf(h: Harness, id: string) {
  return (await h.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }))).LaunchTemplates![0]!;
}

export async function createCluster(h: Harness, name: string): Promise<void> {
  await h.eks.send(
    new CreateClusterCommand({
      name,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/eks`,
      resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
    }),
  );
}

export async function createNodegroup(h: Harness, cluster: string, name: string, extra: Partial<CreateNodegroupCommandInput> = {}) {
  const out = await h.eks.send(
    new CreateNodegroupCommand({
      clusterName: cluster,
      nodegroupName: name,
      nodeRole: `arn:aws:iam::${ACCOUNT}:role/node`,
      subnets: ['subnet-1', 'subnet-2'],
      scalingConfig: { minSize: 1, maxSize: 1, desiredSize: 1 },
      ...extra,
    }),
  );
  return out.nodegroup!;
}

/** The EKS-created eks-<uuid> template of a node group made without a launch template. */
export async function eksCreatedTemplate(h: Harness, cluster: string, nodegroup: string): Promise<string> {
  const out = await h.ec2.send(
    new DescribeLaunchTemplatesCommand({
      Filters: [
        { Name: 'tag:eks:cluster-name', Values: [cluster] },
        { Name: 'tag:eks:nodegroup-name', Values: [nodegroup] },
      ],
    }),
  );
  return out.LaunchTemplates![0]!.LaunchTemplateId!;
}
