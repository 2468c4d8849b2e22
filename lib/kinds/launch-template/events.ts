// CloudTrail events that touch launch templates. CloudTrail renders these bodies in an XML-ish
// PascalCase style (REFERENCE §5); the response shape is unconfirmed, so fall back to the name.
import { acceptEvent, prop, type Ignored, type Invalid, type Trigger } from '../../domain/cloudtrail.js';

export interface LaunchTemplateTarget {
  region: string;
  account: string;
  launchTemplateId?: string;
  launchTemplateName?: string;
  /** The version the event created or made default, if known. */
  version?: string;
}

export type TemplateEventResult = { kind: 'targets'; trigger: Trigger; targets: LaunchTemplateTarget[] } | Ignored | Invalid;

const TEMPLATE_EVENTS = ['CreateLaunchTemplate', 'CreateLaunchTemplateVersion', 'ModifyLaunchTemplate'] as const;
const LT_ID = /^lt-[0-9a-f]{8,17}$/;
const LT_NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;

function str(v: unknown, re: RegExp): string | undefined {
  return typeof v === 'string' && re.test(v) ? v : undefined;
}

function versionOf(v: unknown): string | undefined {
  return typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? String(v) : undefined;
}

export function parseTemplateEvent(raw: unknown, selfRoleNames: string[]): TemplateEventResult {
  const env = acceptEvent(raw, selfRoleNames, TEMPLATE_EVENTS, 'enforce-launch-templates');
  if (env.kind !== 'ok') return env;
  const { detail: d, trigger } = env;
  const req = prop(d.requestParameters, `${d.eventName}Request`) ?? d.requestParameters;
  const res = prop(d.responseElements, `${d.eventName}Response`) ?? d.responseElements;
  const lt = prop(res, 'launchTemplate');
  const ltv = prop(res, 'launchTemplateVersion');
  const id =
    str(prop(req, 'LaunchTemplateId'), LT_ID) ?? str(prop(lt, 'launchTemplateId'), LT_ID) ?? str(prop(ltv, 'launchTemplateId'), LT_ID);
  const name = str(prop(req, 'LaunchTemplateName'), LT_NAME) ?? str(prop(lt, 'launchTemplateName'), LT_NAME);
  const version =
    versionOf(prop(ltv, 'versionNumber')) ??
    versionOf(prop(req, 'SetDefaultVersion', 'DefaultVersion')) ??
    versionOf(prop(lt, 'latestVersionNumber'));
  if (!id && !name) return { kind: 'ignored', reason: 'no-resources', message: `${d.eventName} names no launch template`, trigger };
  const target: LaunchTemplateTarget = {
    region: trigger.region,
    account: trigger.account,
    ...(id ? { launchTemplateId: id } : {}),
    ...(name ? { launchTemplateName: name } : {}),
    ...(version ? { version } : {}),
  };
  return { kind: 'targets', trigger, targets: [target] };
}
