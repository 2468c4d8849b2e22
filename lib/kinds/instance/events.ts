// CloudTrail events that yield instance targets: RunInstances, CreateFleet, ModifyInstanceMetadataOptions.
import { acceptEvent, asList, prop, collectIds, type Ignored, type Invalid, type Trigger } from '../../domain/cloudtrail.js';
import { isComplete, toMetadataOptions, type MetadataOptions } from '../../domain/policy.js';
import { toTags, type Tags } from '../../domain/tags.js';

export interface InstanceTarget {
  instanceId: string;
  region: string;
  account: string;
  /** Present only when the event carried every field the policy needs. */
  metadataOptions?: MetadataOptions;
  /** Present only when the event carried the instance's full tag set. */
  tags?: Tags;
  actor: string;
  eventId: string;
  eventTime: string;
}

export type InstanceEventResult = { kind: 'targets'; trigger: Trigger; targets: InstanceTarget[] } | Ignored | Invalid;

export const INSTANCE_EVENTS = ['RunInstances', 'CreateFleet', 'ModifyInstanceMetadataOptions'] as const;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

type Found = { instanceId: string; metadataOptions?: MetadataOptions; tags?: Tags };

function fromRunInstances(req: unknown, res: unknown): Found[] {
  const requestTags = asList(prop(req, 'tagSpecificationSet'))
    .filter((s) => (prop(s, 'resourceType') ?? 'instance') === 'instance')
    .reduce<Tags>((acc, s) => ({ ...acc, ...toTags(prop(s, 'tags')) }), {});
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
