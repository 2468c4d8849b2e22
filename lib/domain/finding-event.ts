// Findings in (issue 15): Security Hub findings of the AWS controls EC2.8 (instance: IMDSv2 required) and EC2.170
// (launch template: IMDSv2 required) as EventBridge delivers them. Pure. Two shapes (REFERENCE §11):
// - Security Hub CSPM: `Security Hub Findings - Imported`, ASFF under `detail.findings[]`;
// - the new Security Hub: `Findings Imported V2`, OCSF 1.6 Compliance Findings under `detail.findings[]`. Its field
//   names are partly unconfirmed here, so several spellings are accepted and anything unreadable is ignored.
import * as z from 'zod/mini';
import type { Ignored, Invalid, Trigger } from './cloudtrail.js';
import { formatIssues } from './issues.js';
import { isRegion } from './region.js';

const FINDINGS_IMPORTED = 'Security Hub Findings - Imported';
const FINDINGS_IMPORTED_V2 = 'Findings Imported V2';
/** The author imds-guard writes on every note (lib/shell/security-hub.ts): what the loop guard looks for. */
export const SELF_NOTE_AUTHOR = 'imds-guard';
const CONTROLS = { 'EC2.8': 'instance', 'EC2.170': 'launch-template' } as const;
type Control = keyof typeof CONTROLS;

/** How to update the finding afterwards: BatchUpdateFindings (ASFF) or BatchUpdateFindingsV2 (OCSF). */
export type FindingRef =
  | { format: 'asff'; Id: string; ProductArn: string }
  | { format: 'ocsf'; CloudAccountUid: string; FindingInfoUid: string; MetadataProductUid: string };

export interface FindingTarget {
  ref: FindingRef;
  control: Control;
  resource: { type: 'instance' | 'launch-template'; id: string };
  region: string;
  account: string;
  /** The finding's own last update (idempotency and the loop guard key on it). */
  updatedAt: string;
}

export type FindingEventResult = { kind: 'targets'; trigger: Trigger; targets: FindingTarget[] } | Ignored | Invalid;

const EnvelopeSchema = z.looseObject({
  id: z.string(),
  source: z.literal('aws.securityhub'),
  'detail-type': z.enum([FINDINGS_IMPORTED, FINDINGS_IMPORTED_V2]),
  account: z.string().check(z.regex(/^\d{12}$/, 'not a 12-digit account ID')),
  region: z.string().check(z.refine(isRegion, 'not an AWS Region')),
  time: z.string(),
  detail: z.looseObject({ findings: z.array(z.looseObject({})).check(z.minLength(1)) }),
});

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const ID = { instance: /(?:^|[/:])(i-[0-9a-f]{8,17})$/, 'launch-template': /(?:^|[/:])(lt-[0-9a-f]{8,17})$/ };
const ARN_REGION = /^arn:aws[\w-]*:ec2:([a-z0-9-]+):/;

function controlOf(...candidates: unknown[]): Control | undefined {
  for (const c of candidates) {
    const s = str(c)?.replace(/^.*\//, '');
    if (s && s in CONTROLS) return s as Control;
  }
  return undefined;
}

/** The instance or template the finding names, with its Region when the ARN says. */
function resourceOf(control: Control, resources: unknown[], uidKeys: string[]): { id: string; region?: string } | undefined {
  const type = CONTROLS[control];
  for (const r of resources) {
    for (const k of uidKeys) {
      const uid = str(obj(r)[k]) ?? '';
      const id = ID[type].exec(uid)?.[1];
      if (id) {
        const region = str(obj(r).Region) ?? str(obj(r).region) ?? ARN_REGION.exec(uid)?.[1];
        return { id, ...(region ? { region } : {}) };
      }
    }
  }
  return undefined;
}

type One = FindingTarget | { skip: string; self?: true };

function fromAsff(f: Obj, env: { region: string; account: string }): One {
  if (f.ProductName === SELF_NOTE_AUTHOR || str(f.GeneratorId)?.startsWith(`${SELF_NOTE_AUTHOR}/`)) {
    return { skip: `finding ${String(f.Id)} is imds-guard's own`, self: true };
  }
  const note = obj(f.Note);
  const updatedAt = str(f.UpdatedAt) ?? '';
  // Our note is the finding's latest change: the event is the echo of our own BatchUpdateFindings.
  if (note.UpdatedBy === SELF_NOTE_AUTHOR && (str(note.UpdatedAt) ?? '') >= updatedAt) {
    return { skip: `finding ${String(f.Id)} was last updated by imds-guard`, self: true };
  }
  const compliance = obj(f.Compliance);
  const control = controlOf(compliance.SecurityControlId, obj(f.ProductFields).ControlId, f.GeneratorId);
  if (!control) return { skip: `finding ${String(f.Id)} is not EC2.8 or EC2.170` };
  if (compliance.Status !== 'FAILED') return { skip: `finding ${String(f.Id)} is ${String(compliance.Status)}, not FAILED` };
  const workflow = obj(f.Workflow).Status ?? 'NEW';
  if (f.RecordState === 'ARCHIVED' || (workflow !== 'NEW' && workflow !== 'NOTIFIED')) {
    return { skip: `finding ${String(f.Id)} is ${String(f.RecordState ?? 'ACTIVE')}/${String(workflow)}` };
  }
  const account = str(f.AwsAccountId) ?? env.account;
  if (account !== env.account) return { skip: `finding ${String(f.Id)} is of account ${account}: imds-guard acts in its own` };
  const res = resourceOf(control, list(f.Resources), ['Id']);
  const id = str(f.Id);
  const productArn = str(f.ProductArn);
  if (!res || !id || !productArn) return { skip: `finding ${String(f.Id)} names no ${CONTROLS[control]}` };
  return {
    ref: { format: 'asff', Id: id, ProductArn: productArn },
    control,
    resource: { type: CONTROLS[control], id: res.id },
    region: res.region ?? str(f.Region) ?? env.region,
    account,
    updatedAt,
  };
}

// OCSF status_id: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved; compliance.status_id 3 Fail.
function fromOcsf(f: Obj, env: { region: string; account: string }): One {
  const info = obj(f.finding_info);
  const uid = str(info.uid) ?? '?';
  const product = obj(obj(f.metadata).product);
  if (product.name === SELF_NOTE_AUTHOR) return { skip: `finding ${uid} is imds-guard's own`, self: true };
  if (str(f.comment)?.startsWith(`${SELF_NOTE_AUTHOR}:`) && f.status_id !== 1) {
    return { skip: `finding ${uid} was last updated by imds-guard`, self: true };
  }
  const compliance = obj(f.compliance);
  const control = controlOf(compliance.control, compliance.control_id, ...list(compliance.requirements));
  if (!control) return { skip: `finding ${uid} is not EC2.8 or EC2.170` };
  if (!(compliance.status_id === 3 || compliance.status === 'Fail' || compliance.status === 'FAILED')) {
    return { skip: `finding ${uid} is ${String(compliance.status ?? compliance.status_id)}, not Fail` };
  }
  if (f.status_id !== undefined && f.status_id !== 1 && f.status_id !== 2) return { skip: `finding ${uid} has status ${String(f.status)}` };
  const res = resourceOf(control, list(f.resources), ['uid', 'uid_alt', 'name']);
  const cloud = obj(f.cloud);
  const account = str(obj(cloud.account).uid) ?? env.account;
  if (account !== env.account) return { skip: `finding ${uid} is of account ${account}: imds-guard acts in its own` };
  const productUid = str(product.uid);
  if (!res || !str(info.uid) || !productUid) return { skip: `finding ${uid} names no ${CONTROLS[control]}` };
  return {
    ref: { format: 'ocsf', CloudAccountUid: account, FindingInfoUid: uid, MetadataProductUid: productUid },
    control,
    resource: { type: CONTROLS[control], id: res.id },
    region: res.region ?? str(cloud.region) ?? env.region,
    account,
    updatedAt: String(info.modified_time_dt ?? info.modified_time ?? f.time_dt ?? f.time ?? ''),
  };
}

/**
 * A Security Hub findings event -> the instances and templates to evaluate, or why not. Never throws; makes no call.
 * @example
 * parseFindingEvent(event) // { kind: 'targets', targets: [{ control: 'EC2.8', resource: { type: 'instance', id: 'i-0abc…' } … }] }
 */
export function parseFindingEvent(raw: unknown): FindingEventResult {
  const parsed = EnvelopeSchema.safeParse(raw);
  if (!parsed.success) {
    return { kind: 'invalid', message: 'not a Security Hub findings event', issues: formatIssues(parsed.error.issues, '(event)') };
  }
  const e = parsed.data;
  const v2 = e['detail-type'] === FINDINGS_IMPORTED_V2;
  const found = e.detail.findings.map((f) => (v2 ? fromOcsf(f, e) : fromAsff(f, e)));
  const targets = found.filter((t): t is FindingTarget => 'ref' in t);
  const first = targets[0];
  const trigger: Trigger = {
    source: 'securityhub',
    eventName: e['detail-type'],
    // One finding per event (AWS's docs): its id and last update are the event's identity.
    eventId: first ? `${refId(first.ref)}@${first.updatedAt}` : e.id,
    eventTime: first?.updatedAt || e.time,
    actor: first ? (first.ref.format === 'asff' ? first.ref.ProductArn : first.ref.MetadataProductUid) : 'aws.securityhub',
    region: first?.region ?? e.region,
    account: first?.account ?? e.account,
  };
  if (targets.length) return { kind: 'targets', trigger, targets };
  const skips = found as { skip: string; self?: true }[];
  const reason = skips.every((s) => s.self) ? 'self-caused' : 'unsupported-event';
  return { kind: 'ignored', reason, message: skips.map((s) => s.skip).join('; '), trigger };
}

function refId(ref: FindingRef): string {
  return ref.format === 'asff' ? ref.Id : ref.FindingInfoUid;
}
