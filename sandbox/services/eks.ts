// EKS (REST-JSON): clusters, managed node groups (which launch real sandbox EC2
// instances through the RunInstances path), add-ons and pod identity associations.
import type {
  CreateAddonRequest,
  CreateClusterRequest,
  CreatePodIdentityAssociationRequest,
  ListPodIdentityAssociationsRequest,
} from '@aws-sdk/client-eks';
import { AwsError } from '../errors.js';
import type { Ctx } from '../runtime.js';
import type { ClusterRecord } from '../state.js';
import { nodegroupHandlers } from './eks-nodegroups.js';
import { cluster, invalidParameter, listPage } from './eks-common.js';

function clusterShape(c: ClusterRecord) {
  return {
    name: c.name,
    arn: c.arn,
    createdAt: c.createdAt,
    version: c.version,
    endpoint: c.endpoint,
    roleArn: c.roleArn,
    resourcesVpcConfig: c.resourcesVpcConfig,
    kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
    identity: { oidc: { issuer: c.oidcIssuer } },
    status: c.status,
    certificateAuthority: { data: Buffer.from(`sandbox-ca-${c.name}`).toString('base64') },
    platformVersion: 'eks.10',
    tags: c.tags,
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    health: { issues: [] },
  };
}

function addonShape(c: ClusterRecord, name: string) {
  const a = c.addons.get(name);
  if (!a)
    throw new AwsError('ResourceNotFoundException', `No addon: ${name} found in cluster: ${c.name}`, 404, {
      clusterName: c.name,
      addonName: name,
    });
  return {
    addonName: a.name,
    clusterName: c.name,
    status: a.status,
    addonVersion: a.version,
    health: { issues: [] },
    addonArn: a.arn,
    createdAt: a.createdAt,
    modifiedAt: a.modifiedAt,
    serviceAccountRoleArn: a.serviceAccountRoleArn,
    tags: a.tags,
  };
}

const NAME_RE = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

export const eksHandlers: Record<string, (ctx: Ctx, input: never) => unknown> = {
  CreateCluster(ctx: Ctx, input: CreateClusterRequest) {
    const { rt, rs, region } = ctx;
    if (!input.name || !NAME_RE.test(input.name)) throw invalidParameter('The cluster name is invalid.');
    if (!input.roleArn) throw invalidParameter('roleArn is required');
    if (!input.resourcesVpcConfig) throw invalidParameter('resourcesVpcConfig is required');
    if (rs.clusters.has(input.name)) {
      throw new AwsError('ResourceInUseException', `Cluster already exists with name: ${input.name}`, 409, { clusterName: input.name });
    }
    const ids = rt.state.ids;
    const hex = ids.hex(32).toUpperCase();
    const sg = `sg-${ids.hex(17)}`;
    const c: ClusterRecord = {
      name: input.name,
      arn: `arn:aws:eks:${region}:${rt.state.accountId}:cluster/${input.name}`,
      createdAt: new Date(),
      status: rt.state.config.clusterStatus,
      version: input.version ?? '1.31',
      roleArn: input.roleArn,
      endpoint: `https://${hex}.gr7.${region}.eks.amazonaws.com`,
      oidcIssuer: `https://oidc.eks.${region}.amazonaws.com/id/${ids.hex(32).toUpperCase()}`,
      clusterSecurityGroupId: sg,
      resourcesVpcConfig: {
        subnetIds: input.resourcesVpcConfig.subnetIds ?? [],
        securityGroupIds: input.resourcesVpcConfig.securityGroupIds ?? [],
        clusterSecurityGroupId: sg,
        vpcId: rs.vpcId,
        endpointPublicAccess: input.resourcesVpcConfig.endpointPublicAccess ?? true,
        endpointPrivateAccess: input.resourcesVpcConfig.endpointPrivateAccess ?? false,
        publicAccessCidrs: input.resourcesVpcConfig.publicAccessCidrs ?? ['0.0.0.0/0'],
      },
      tags: input.tags ?? {},
      nodegroups: new Map(),
      addons: new Map(),
      podIdentityAssociations: new Map(),
      updates: new Map(),
    };
    rs.clusters.set(c.name, c);
    return { cluster: clusterShape(c) };
  },

  DescribeCluster(ctx: Ctx, input: { name?: string }) {
    return { cluster: clusterShape(cluster(ctx, input.name)) };
  },

  ListClusters(ctx: Ctx, input: { maxResults?: number; nextToken?: string }) {
    const p = listPage([...ctx.rs.clusters.keys()], input, 'ListClusters');
    return { clusters: p.items, nextToken: p.next };
  },

  DeleteCluster(ctx: Ctx, input: { name?: string }) {
    const c = cluster(ctx, input.name);
    if (c.nodegroups.size) throw new AwsError('ResourceInUseException', `Cluster has nodegroups attached`, 409, { clusterName: c.name });
    ctx.rs.clusters.delete(c.name);
    return { cluster: { ...clusterShape(c), status: 'DELETING' } };
  },

  ...nodegroupHandlers,

  DescribeUpdate(ctx: Ctx, input: { name?: string; updateId?: string }) {
    const c = cluster(ctx, input.name);
    const u = c.updates.get(input.updateId ?? '');
    if (!u) throw new AwsError('ResourceNotFoundException', `No update found for ID: ${input.updateId}`, 404, { clusterName: c.name });
    return { update: { id: u.id, status: u.status, type: u.type, params: u.params, createdAt: u.createdAt, errors: [] } };
  },

  ListAddons(ctx: Ctx, input: { clusterName?: string; maxResults?: number; nextToken?: string }) {
    const c = cluster(ctx, input.clusterName);
    const p = listPage([...c.addons.keys()], input, `ListAddons:${c.name}`);
    return { addons: p.items, nextToken: p.next };
  },

  CreateAddon(ctx: Ctx, input: CreateAddonRequest) {
    const c = cluster(ctx, input.clusterName);
    const name = input.addonName;
    if (!name) throw invalidParameter('addonName is required');
    if (c.addons.has(name))
      throw new AwsError('ResourceInUseException', `Addon already exists with name: ${name}`, 409, {
        clusterName: c.name,
        addonName: name,
      });
    const now = new Date();
    c.addons.set(name, {
      name,
      version: input.addonVersion ?? 'v1.3.4-eksbuild.1',
      arn: `arn:aws:eks:${ctx.region}:${ctx.rt.state.accountId}:addon/${c.name}/${name}/${ctx.rt.state.ids.uuid()}`,
      status: 'ACTIVE',
      createdAt: now,
      modifiedAt: now,
      serviceAccountRoleArn: input.serviceAccountRoleArn,
      tags: input.tags ?? {},
    });
    return { addon: addonShape(c, name) };
  },

  DescribeAddon(ctx: Ctx, input: { clusterName?: string; addonName?: string }) {
    const c = cluster(ctx, input.clusterName);
    return { addon: addonShape(c, input.addonName ?? '') };
  },

  ListPodIdentityAssociations(ctx: Ctx, input: ListPodIdentityAssociationsRequest) {
    const c = cluster(ctx, input.clusterName);
    const items = [...c.podIdentityAssociations.values()].filter(
      (a) => (!input.namespace || a.namespace === input.namespace) && (!input.serviceAccount || a.serviceAccount === input.serviceAccount),
    );
    const p = listPage(items, input, `ListPodIdentityAssociations:${c.name}`);
    return {
      associations: p.items.map((a) => ({
        clusterName: c.name,
        namespace: a.namespace,
        serviceAccount: a.serviceAccount,
        associationArn: a.arn,
        associationId: a.id,
      })),
      nextToken: p.next,
    };
  },

  CreatePodIdentityAssociation(ctx: Ctx, input: CreatePodIdentityAssociationRequest) {
    const c = cluster(ctx, input.clusterName);
    if (!input.namespace || !input.serviceAccount || !input.roleArn)
      throw invalidParameter('namespace, serviceAccount and roleArn are required');
    for (const a of c.podIdentityAssociations.values()) {
      if (a.namespace === input.namespace && a.serviceAccount === input.serviceAccount) {
        throw new AwsError('ResourceInUseException', 'Association already exists', 409, { clusterName: c.name });
      }
    }
    const id = `a-${ctx.rt.state.ids.hex(17)}`;
    const now = new Date();
    const a = {
      id,
      arn: `arn:aws:eks:${ctx.region}:${ctx.rt.state.accountId}:podidentityassociation/${c.name}/${id}`,
      clusterName: c.name,
      namespace: input.namespace,
      serviceAccount: input.serviceAccount,
      roleArn: input.roleArn,
      createdAt: now,
      modifiedAt: now,
      tags: input.tags ?? {},
    };
    c.podIdentityAssociations.set(id, a);
    return {
      association: {
        clusterName: c.name,
        namespace: a.namespace,
        serviceAccount: a.serviceAccount,
        roleArn: a.roleArn,
        associationArn: a.arn,
        associationId: id,
        tags: a.tags,
        createdAt: now,
        modifiedAt: now,
      },
    };
  },
};
