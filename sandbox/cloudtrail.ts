// CloudTrail as EventBridge delivers it, for resources that live in the sandbox. Each builder starts
// from a realistic sample in events/ and swaps in the real IDs, tags and MetadataOptions, so the
// handlers see exactly the shapes they see in AWS (REFERENCE §5).
import type { Instance } from '@aws-sdk/client-ec2';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const EVENTS = join(import.meta.dirname, '../events');

function sample(name: string): any {
  const e = JSON.parse(readFileSync(join(EVENTS, `${name}.json`), 'utf8'));
  const id = randomUUID();
  e.id = `evb-${id}`;
  e.detail.eventID = id;
  e.time = e.detail.eventTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return e;
}

function where(e: any, region: string, account: string): any {
  e.region = e.detail.awsRegion = region;
  e.account = e.detail.recipientAccountId = account;
  return e;
}

/** The response item CloudTrail logs for each launched instance. */
function instanceItem(i: Instance) {
  const m = i.MetadataOptions ?? {};
  return {
    instanceId: i.InstanceId,
    instanceState: { code: 0, name: 'pending' },
    tagSet: { items: (i.Tags ?? []).map((t) => ({ key: t.Key, value: t.Value })) },
    metadataOptions: {
      state: 'pending',
      httpTokens: m.HttpTokens,
      httpPutResponseHopLimit: m.HttpPutResponseHopLimit,
      httpEndpoint: m.HttpEndpoint,
      httpProtocolIpv6: m.HttpProtocolIpv6,
      instanceMetadataTags: m.InstanceMetadataTags,
    },
  };
}

export interface Where {
  region: string;
  account: string;
}

/** RunInstances by Auto Scaling (managed node group) or by a person. */
export function runInstances(instances: Instance[], by: 'autoscaling' | 'user', w: Where): any {
  const e = where(sample(by === 'autoscaling' ? 'run-instances-nodegroup-asg' : 'run-instances-direct-3'), w.region, w.account);
  delete e.detail.requestParameters.tagSpecificationSet;
  e.detail.responseElements.instancesSet.items = instances.map(instanceItem);
  return e;
}

/** Karpenter's CreateFleet: the IDs sit deep in the response; nothing else is relied on. */
export function createFleet(instanceIds: string[], w: Where): any {
  const e = where(sample('create-fleet-karpenter'), w.region, w.account);
  e.detail.responseElements.CreateFleetResponse.fleetInstanceSet.item.instanceIds.item = instanceIds;
  return e;
}

export function modifyMetadataOptions(instanceId: string, w: Where, actorArn?: string): any {
  const e = where(sample('modify-metadata-options-revert'), w.region, w.account);
  e.detail.requestParameters.ModifyInstanceMetadataOptionsRequest.InstanceId = instanceId;
  e.detail.responseElements.ModifyInstanceMetadataOptionsResponse.instanceId = instanceId;
  if (actorArn)
    e.detail.userIdentity = {
      type: 'AssumedRole',
      arn: actorArn,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          arn: actorArn.replace(':sts:', ':iam:').replace(/assumed-role\/([^/]+)\/.*/, 'role/$1'),
          userName: actorArn.split('/')[1],
        },
      },
    };
  return e;
}

export function createLaunchTemplate(id: string, name: string, w: Where): any {
  const e = where(sample('create-launch-template'), w.region, w.account);
  e.detail.requestParameters.CreateLaunchTemplateRequest.LaunchTemplateName = name;
  Object.assign(e.detail.responseElements.CreateLaunchTemplateResponse.launchTemplate, { launchTemplateId: id, launchTemplateName: name });
  return e;
}

export function createNodegroup(cluster: string, nodegroup: string, w: Where, lt?: { id: string; version: string }): any {
  const e = where(sample('create-nodegroup-custom-template'), w.region, w.account);
  const req = e.detail.requestParameters;
  req.name = cluster;
  req.nodegroupName = nodegroup;
  if (lt) req.launchTemplate = lt;
  else delete req.launchTemplate;
  e.detail.responseElements = {
    nodegroup: { nodegroupName: nodegroup, clusterName: cluster, status: 'CREATING', ...(lt ? { launchTemplate: lt } : {}) },
  };
  return e;
}
