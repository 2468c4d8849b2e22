// EKS managed node groups. Without a custom launch template EKS creates its own
// `eks-<uuid>` template whose metadata options depend on the AMI type (eks-ami-defaults.ts:
// AL2 optional/2, AL2023 and Bottlerocket required/1); nodes are launched through the same path as RunInstances, so account defaults and
// IMDSv2 enforcement apply to them too.
import type { _InstanceType } from '@aws-sdk/client-ec2';
import type { CreateNodegroupRequest, UpdateNodegroupVersionRequest } from '@aws-sdk/client-eks';
import { AwsError } from '../errors.js';
import type { Ctx } from '../runtime.js';
import type { ClusterRecord, LaunchTemplateRecord, LtRef, NodegroupRecord, UpdateRecord } from '../state.js';
import { launchInstances, terminate } from './ec2-instances.js';
import { addVersion, createTemplate, findTemplate, resolveVersion } from './ec2-templates.js';
import { eksTemplateDefaults } from './eks-ami-defaults.js';
import { cluster, invalidParameter, listPage } from './eks-common.js';

function nodegroup(c: ClusterRecord, name: string | undefined): NodegroupRecord {
  const ng = name ? c.nodegroups.get(name) : undefined;
  if (!ng) {
    throw new AwsError('ResourceNotFoundException', `No node group found for name: ${name}.`, 404, {
      clusterName: c.name,
      nodegroupName: name,
    });
  }
  return ng;
}

function findLt(ctx: Ctx, ref: { id?: string; name?: string }): LaunchTemplateRecord {
  if (ref.id && ref.name) throw invalidParameter('Either launch template ID or launch template name may be specified, but not both.');
  try {
    return findTemplate(ctx.rs, ref.id, ref.name);
  } catch (e) {
    if (e instanceof AwsError) throw invalidParameter(`Launch template ${ref.id ?? ref.name} does not exist.`);
    throw e;
  }
}

function nodeInstances(ctx: Ctx, ng: NodegroupRecord) {
  return [...ctx.rs.instances.values()].filter(
    (i) => i.tags['eks:nodegroup-name'] === ng.name && i.tags['eks:cluster-name'] === ng.clusterName && i.state !== 'terminated',
  );
}

/** Launches `count` nodes the way Auto Scaling does: one RunInstances each, ASG tags propagated.
 * A launch failure (e.g. IMDSv2 enforcement vs. the EKS template) becomes a health issue, as in EKS. */
function launchNodes(ctx: Ctx, c: ClusterRecord, ng: NodegroupRecord, count: number, phase: 'create' | 'update'): boolean {
  const ref = ng.launchTemplate ?? ng.eksLaunchTemplate!;
  const lt = findTemplate(ctx.rs, ref.id);
  const hasType = !!resolveVersion(lt, ref.version).data.InstanceType;
  const systemTags = {
    'eks:cluster-name': c.name,
    'eks:nodegroup-name': ng.name,
    'aws:autoscaling:groupName': ng.asgName,
    [`kubernetes.io/cluster/${c.name}`]: 'owned',
    'k8s.io/cluster-autoscaler/enabled': 'true',
    [`k8s.io/cluster-autoscaler/${c.name}`]: 'owned',
  };
  try {
    for (let i = 0; i < count; i++) {
      launchInstances(
        ctx,
        {
          MinCount: 1,
          MaxCount: 1,
          LaunchTemplate: { LaunchTemplateId: ref.id, Version: ref.version },
          InstanceType: hasType ? undefined : ((ng.instanceTypes?.[0] ?? 't3.medium') as _InstanceType),
          SubnetId: ng.subnets.length ? ng.subnets[i % ng.subnets.length] : undefined,
        },
        { systemTags, internal: true },
      );
    }
  } catch (e) {
    if (!(e instanceof AwsError)) throw e;
    ng.status = phase === 'update' ? 'DEGRADED' : 'CREATE_FAILED';
    ng.healthIssues.push({ code: 'AsgInstanceLaunchFailures', message: `${e.code}: ${e.message}`, resourceIds: [ng.asgName] });
    return false;
  }
  return true;
}

function healthIssues(ctx: Ctx, ng: NodegroupRecord) {
  const issues = [...ng.healthIssues];
  const ref = ng.eksLaunchTemplate;
  if (ref) {
    const lt = ctx.rs.launchTemplates.get(ref.id);
    if (!lt)
      issues.push({
        code: 'Ec2LaunchTemplateNotFound',
        message: `Amazon EC2 launch template ${ref.name} could not be found.`,
        resourceIds: [ref.id],
      });
    else if (String(lt.latestVersion) !== ref.version || String(lt.defaultVersion) !== ref.version) {
      // Editing the EKS-created template is what real node groups flag this way.
      issues.push({
        code: 'Ec2LaunchTemplateVersionMismatch',
        message: 'The Amazon EC2 Launch Template version for your managed node group does not match the version that Amazon EKS created.',
        resourceIds: [ref.id],
      });
    }
  }
  return issues;
}

function shape(ctx: Ctx, ng: NodegroupRecord) {
  return {
    nodegroupName: ng.name,
    nodegroupArn: ng.arn,
    clusterName: ng.clusterName,
    version: ng.version,
    releaseVersion: ng.releaseVersion,
    createdAt: ng.createdAt,
    modifiedAt: ng.modifiedAt,
    status: ng.status,
    capacityType: ng.capacityType,
    scalingConfig: ng.scalingConfig,
    instanceTypes: ng.instanceTypes,
    subnets: ng.subnets,
    amiType: ng.amiType,
    nodeRole: ng.nodeRole,
    labels: ng.labels,
    taints: ng.taints.length ? ng.taints : undefined,
    diskSize: ng.diskSize,
    resources: { autoScalingGroups: [{ name: ng.asgName }] },
    health: { issues: healthIssues(ctx, ng) },
    updateConfig: { maxUnavailable: 1 },
    launchTemplate: ng.launchTemplate,
    tags: ng.tags,
  };
}

export const nodegroupHandlers = {
  CreateNodegroup(ctx: Ctx, input: CreateNodegroupRequest) {
    const c = cluster(ctx, input.clusterName);
    const name = input.nodegroupName;
    if (!name || !/^[0-9A-Za-z][A-Za-z0-9\-_]{0,62}$/.test(name)) throw invalidParameter('The node group name is invalid.');
    if (c.nodegroups.has(name)) {
      throw new AwsError('ResourceInUseException', `NodeGroup already exists with name ${name} and cluster name ${c.name}`, 409, {
        clusterName: c.name,
        nodegroupName: name,
      });
    }
    if (!input.nodeRole) throw invalidParameter('nodeRole is required');
    if (!input.subnets?.length) throw invalidParameter('subnets are required');
    const sc = { minSize: 1, maxSize: 2, desiredSize: 2, ...input.scalingConfig };
    if (sc.desiredSize < sc.minSize || sc.desiredSize > sc.maxSize)
      throw invalidParameter('desired capacity must be between min and max size');
    const { ids, accountId } = ctx.rt.state;
    const uuid = ids.uuid();
    const now = new Date();
    const ng: NodegroupRecord = {
      name,
      arn: `arn:aws:eks:${ctx.region}:${accountId}:nodegroup/${c.name}/${name}/${uuid}`,
      clusterName: c.name,
      createdAt: now,
      modifiedAt: now,
      status: ctx.rt.state.config.nodegroupStatus,
      version: input.version ?? c.version,
      releaseVersion: input.releaseVersion ?? `${c.version}.0-20260101`,
      capacityType: input.capacityType ?? 'ON_DEMAND',
      scalingConfig: sc,
      subnets: input.subnets,
      nodeRole: input.nodeRole,
      labels: input.labels ?? {},
      taints: input.taints ?? [],
      tags: input.tags ?? {},
      asgName: `eks-${name}-${uuid}`,
      healthIssues: [],
    };
    if (input.launchTemplate) {
      const lt = findLt(ctx, input.launchTemplate);
      if (input.diskSize !== undefined) throw invalidParameter('Disk size must be specified within the launch template.');
      const v = resolveVersion(lt, input.launchTemplate.version);
      if (v.data.InstanceType && input.instanceTypes?.length) {
        throw invalidParameter('Instance type must be specified in the launch template or in the node group, not both.');
      }
      ng.launchTemplate = { id: lt.id, name: lt.name, version: String(v.number) };
      ng.instanceTypes = v.data.InstanceType ? undefined : (input.instanceTypes ?? ['t3.medium']);
      ng.amiType = v.data.ImageId ? 'CUSTOM' : (input.amiType ?? 'AL2023_x86_64_STANDARD');
    } else {
      ng.instanceTypes = input.instanceTypes ?? ['t3.medium'];
      ng.amiType = input.amiType ?? 'AL2023_x86_64_STANDARD';
      ng.diskSize = input.diskSize ?? 20;
      const lt = createTemplate(ctx, {
        name: `eks-${ids.uuid()}`,
        createdBy: `arn:aws:sts::${accountId}:assumed-role/AWSServiceRoleForAmazonEKSNodegroup/EKS`,
        tags: { 'eks:cluster-name': c.name, 'eks:nodegroup-name': name },
        data: {
          InstanceType: ng.instanceTypes.length === 1 ? ng.instanceTypes[0] : undefined,
          ImageId: `ami-${ids.hex(17)}`,
          UserData: Buffer.from(`#!/bin/bash\n/etc/eks/bootstrap.sh ${c.name}\n`).toString('base64'),
          IamInstanceProfile: { Arn: `arn:aws:iam::${accountId}:instance-profile/eks-${uuid}` },
          SecurityGroupIds: [c.clusterSecurityGroupId],
          BlockDeviceMappings: [
            { DeviceName: '/dev/xvda', Ebs: { VolumeSize: ng.diskSize, VolumeType: 'gp2', DeleteOnTermination: true } },
          ],
          MetadataOptions: eksTemplateDefaults(ng.amiType).metadata,
        },
      });
      ng.eksLaunchTemplate = { id: lt.id, name: lt.name, version: '1' };
    }
    c.nodegroups.set(name, ng);
    launchNodes(ctx, c, ng, sc.desiredSize, 'create');
    return { nodegroup: shape(ctx, ng) };
  },

  DescribeNodegroup(ctx: Ctx, input: { clusterName?: string; nodegroupName?: string }) {
    const c = cluster(ctx, input.clusterName);
    return { nodegroup: shape(ctx, nodegroup(c, input.nodegroupName)) };
  },

  ListNodegroups(ctx: Ctx, input: { clusterName?: string; maxResults?: number; nextToken?: string }) {
    const c = cluster(ctx, input.clusterName);
    const p = listPage([...c.nodegroups.keys()], input, `ListNodegroups:${c.name}`);
    return { nodegroups: p.items, nextToken: p.next };
  },

  DeleteNodegroup(ctx: Ctx, input: { clusterName?: string; nodegroupName?: string }) {
    const c = cluster(ctx, input.clusterName);
    const ng = nodegroup(c, input.nodegroupName);
    nodeInstances(ctx, ng).forEach(terminate);
    if (ng.eksLaunchTemplate) ctx.rs.launchTemplates.delete(ng.eksLaunchTemplate.id);
    c.nodegroups.delete(ng.name);
    return { nodegroup: { ...shape(ctx, ng), status: 'DELETING' } };
  },

  UpdateNodegroupVersion(ctx: Ctx, input: UpdateNodegroupVersionRequest) {
    const c = cluster(ctx, input.clusterName);
    const ng = nodegroup(c, input.nodegroupName);
    // EKS refuses an update while the node group is still being created, updated or deleted.
    if (['CREATING', 'UPDATING', 'DELETING'].includes(ng.status)) {
      throw new AwsError('ResourceInUseException', `Nodegroup ${ng.name} cannot be updated while its status is ${ng.status}.`, 409, {
        clusterName: c.name,
        nodegroupName: ng.name,
      });
    }
    const params: { type: string; value: string }[] = [];
    if (input.launchTemplate) {
      if (!ng.launchTemplate) {
        throw invalidParameter('A launch template can only be specified for node groups that were created with a launch template.');
      }
      const lt = findLt(ctx, input.launchTemplate);
      if (lt.id !== ng.launchTemplate.id)
        throw invalidParameter('The launch template ID or name cannot be changed for an existing node group.');
      const v = resolveVersion(lt, input.launchTemplate.version);
      ng.launchTemplate = { ...ng.launchTemplate, version: String(v.number) };
      params.push({ type: 'LaunchTemplateName', value: lt.name }, { type: 'LaunchTemplateVersion', value: String(v.number) });
    } else if (ng.eksLaunchTemplate) {
      // An AMI/version update: EKS writes a new version of its own template.
      const lt = findTemplate(ctx.rs, ng.eksLaunchTemplate.id);
      const base = resolveVersion(lt, ng.eksLaunchTemplate.version).data;
      const v = addVersion(ctx, lt, { ...base, ImageId: `ami-${ctx.rt.state.ids.hex(17)}` }, undefined, lt.createdBy);
      lt.defaultVersion = v.number;
      ng.eksLaunchTemplate = { ...ng.eksLaunchTemplate, version: String(v.number) } satisfies LtRef;
    }
    if (input.version) {
      ng.version = input.version;
      params.push({ type: 'Version', value: input.version });
    }
    if (input.releaseVersion) {
      ng.releaseVersion = input.releaseVersion;
      params.push({ type: 'ReleaseVersion', value: input.releaseVersion });
    }
    ng.modifiedAt = new Date();
    let ok = true;
    if (ctx.rt.state.config.rollNodesOnUpdate) {
      nodeInstances(ctx, ng).forEach(terminate);
      ok = launchNodes(ctx, c, ng, ng.scalingConfig.desiredSize, 'update');
    }
    const u: UpdateRecord = {
      id: ctx.rt.state.ids.uuid(),
      status: ok ? 'Successful' : 'Failed',
      type: 'VersionUpdate',
      params,
      createdAt: new Date(),
      nodegroupName: ng.name,
    };
    c.updates.set(u.id, u);
    // The call returns while the (here instantaneous) rolling update is "in progress".
    return { update: { id: u.id, status: 'InProgress', type: u.type, params, createdAt: u.createdAt, errors: [] } };
  },
};
