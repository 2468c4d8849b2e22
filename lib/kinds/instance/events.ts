// CloudTrail events that yield instance targets: RunInstances, CreateFleet, ModifyInstanceMetadataOptions, and
// CreateTags / DeleteTags of the scope and exempt keys (the rule in serverless.yml filters on those keys).
import { acceptEvent, asList, prop, collectIds, type Ignored, type Invalid, type Trigger } from '../../domain/cloudtrail.js';
import { isComplete, toMetadataOptions, type MetadataOptions } from '../../domain/policy.js';
import type { TagChange } from '../../domain/scope.js';
import { toTags, type Tags } from '../../domain/tags.js';

export interface InstanceTarget {
  instanceId: string;
  region: string;
  account: string;
  /** Present only when the event carried every field the policy needs. */
  metadataOptions?: MetadataOptions;
  /** Present only when the event carried the instance's full tag set. */
  tags?: Tags;
  /** CreateTags / DeleteTags: what the event changed (the instance's own tags still come from describe). */
  tagChange?: TagChange;
  /** Its managed node group's tags (owner routing), when looked up. */
  nodegroupTags?: Tags;
  /** Its cluster's tags (owner routing), when looked up. */
  clusterTags?: Tags;
  actor: string;
  eventId: string;
  eventTime: string;
}

export type InstanceEventResult = { kind: 'targets'; trigger: Trigger; targets: InstanceTarget[] } | Ignored | Invalid;

const INSTANCE_EVENTS = ['RunInstances', 'CreateFleet', 'ModifyInstanceMetadataOptions', 'CreateTags', 'DeleteTags'] as const;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

type Found = { instanceId: string; metadataOptions?: MetadataOptions; tags?: Tags; tagChange?: TagChange };

function fromRunInstances(req: unknown, res: unknown): Found[] {
  // fromEntries defines each key as spread does (a tag named "__proto__" stays a tag); later sets win.
  const requestTags: Tags = Object.fromEntries(
    asList(prop(req, 'tagSpecificationSet'))
      .filter((s) => (prop(s, 'resourceType') ?? 'instance') === 'instance')
      .flatMap((s) => Object.entries(toTags(prop(s, 'tags')))),
  );
  // Request tags are the full set only when no launch template can add more.
  const requestTagsComplete = prop(req, 'launchTemplate') === undefined && prop(req, 'tagSpecificationSet') !== undefined;
  return asList(prop(res, 'instancesSet')).flatMap((item) => {
    const instanceId = prop(item, 'instanceId');
    if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) return [];
    const tagSet = prop(item, 'tagSet');
    const tags = tagSet !== undefined ? { ...requestTags, ...toTags(tagSet) } : requestTagsComplete ? requestTags : undefined;
    const options = toMetadataOptions(prop(item, 'metadataOptions') as Record<string, unknown> | undefined);
    return [{ instanceId, ...(isComplete(options) ? { metadataOptions: options } : {}), ...(tags ? { tags } : {}) }];
  });
}

function fromModifyMetadataOptions(req: unknown, res: unknown): Found[] {
  const body = prop(req, 'ModifyInstanceMetadataOptionsRequest') ?? req;
  const id = prop(body, 'InstanceId', 'instanceId') ?? prop(prop(res, 'ModifyInstanceMetadataOptionsResponse') ?? res, 'instanceId');
  // The event never carries tags, and its options are in flux (state pending): describe.
  return typeof id === 'string' && INSTANCE_ID.test(id) ? [{ instanceId: id }] : [];
}

function fromTagEvent(req: unknown, deleting: boolean): Found[] {
  const items = asList(prop(prop(req, 'tagSet'), 'items') ?? prop(req, 'tagSet'));
  const set = deleting ? {} : toTags(items);
  const deleted = deleting ? items.map((t) => prop(t, 'key')).filter((k): k is string => typeof k === 'string') : [];
  const ids = asList(prop(prop(req, 'resourcesSet'), 'items') ?? prop(req, 'resourcesSet')).map((r) => prop(r, 'resourceId'));
  // No options and no full tag set in the event: the instances are described.
  return [...new Set(ids.filter((id): id is string => typeof id === 'string' && INSTANCE_ID.test(id)))].map((instanceId) => ({
    instanceId,
    tagChange: { set, deleted },
  }));
}

/** Parse an event into instance targets, or say why there is nothing to do. Never throws. */
export function parseInstanceEvent(raw: unknown, selfRoleNames: string[]): InstanceEventResult {
  const env = acceptEvent(raw, selfRoleNames, INSTANCE_EVENTS, 'enforce-instances');
  if (env.kind !== 'ok') return env;
  const { detail: d, trigger } = env;
  let found: Found[];
  switch (d.eventName) {
    case 'RunInstances':
      found = fromRunInstances(d.requestParameters, d.responseElements);
      break;
    case 'CreateFleet':
      // The response shape is unconfirmed (REFERENCE §5): collect every instance ID and describe them.
      found = collectIds(d.responseElements, INSTANCE_ID).map((instanceId) => ({ instanceId }));
      break;
    case 'CreateTags':
    case 'DeleteTags':
      found = fromTagEvent(d.requestParameters, d.eventName === 'DeleteTags');
      break;
    default: // ModifyInstanceMetadataOptions
      found = fromModifyMetadataOptions(d.requestParameters, d.responseElements);
  }
  if (found.length === 0) {
    return { kind: 'ignored', reason: 'no-resources', message: `${d.eventName} names no instances`, trigger };
  }
  const base = {
    region: trigger.region,
    account: trigger.account,
    actor: trigger.actor,
    eventId: trigger.eventId,
    eventTime: trigger.eventTime,
  };
  return { kind: 'targets', trigger, targets: found.map((f) => ({ ...base, ...f })) };
}
