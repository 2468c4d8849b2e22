// Parsing of "AWS API Call via CloudTrail" events as EventBridge delivers them. Pure.
// CloudTrail shapes are partly unconfirmed (REFERENCE §5), so the schemas are strict about what
// we rely on (IDs, names, region, account) and lenient about everything else.
// zod/mini keeps the bundle small (classic zod and the Powertools parser schemas add ~440 KB).
import * as z from 'zod/mini';
import { formatIssues } from './issues.js';
import { isRegion, partitionOf } from './region.js';

const SessionIssuer = z.looseObject({ type: z.optional(z.string()), arn: z.optional(z.string()), userName: z.optional(z.string()) });

const UserIdentitySchema = z.looseObject({
  type: z.optional(z.string()),
  arn: z.optional(z.string()),
  principalId: z.optional(z.string()),
  invokedBy: z.optional(z.string()),
  sessionContext: z.optional(z.looseObject({ sessionIssuer: z.optional(SessionIssuer) })),
});

const nonEmpty = () => z.string().check(z.minLength(1));

const CloudTrailDetailSchema = z.looseObject({
  eventSource: z.optional(z.string()),
  eventName: nonEmpty(),
  eventID: nonEmpty(),
  eventTime: nonEmpty(),
  awsRegion: z.string().check(z.refine(isRegion, 'not an AWS Region')),
  recipientAccountId: z.string().check(z.regex(/^\d{12}$/, 'not a 12-digit account ID')),
  userIdentity: UserIdentitySchema,
  sourceIPAddress: z.optional(z.string()),
  errorCode: z.optional(z.string()),
  errorMessage: z.optional(z.string()),
  requestParameters: z.optional(z.unknown()),
  responseElements: z.optional(z.unknown()),
});

/** The EventBridge envelope (as in Powertools' EventBridgeSchema) with a CloudTrail detail. */
const CloudTrailEventSchema = z.looseObject({
  version: z._default(z.string(), '0'),
  id: z.string(),
  source: z.enum(['aws.ec2', 'aws.eks']),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z._default(z.array(z.string()), []),
  'detail-type': z.literal('AWS API Call via CloudTrail'),
  detail: CloudTrailDetailSchema,
});

export type CloudTrailDetail = z.infer<typeof CloudTrailDetailSchema>;

/** What caused a decision: defined with the audit record it is carried by (./audit-schema.ts). */
export type { Trigger } from './audit-schema.js';
import type { Trigger } from './audit-schema.js';

export type Ignored = {
  kind: 'ignored';
  reason: 'failed-call' | 'self-caused' | 'no-resources' | 'unsupported-event';
  message: string;
  trigger: Trigger;
};
export type Invalid = { kind: 'invalid'; message: string; issues: string[] };

export type Envelope = { kind: 'ok'; detail: CloudTrailDetail; trigger: Trigger } | Invalid;

function actorOf(d: CloudTrailDetail): string {
  const u = d.userIdentity;
  return u.arn ?? u.sessionContext?.sessionIssuer?.arn ?? u.invokedBy ?? u.principalId ?? u.type ?? 'unknown';
}

/** Validate the envelope; never throws. */
export function parseEnvelope(raw: unknown): Envelope {
  const parsed = CloudTrailEventSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      kind: 'invalid',
      message: 'not a valid "AWS API Call via CloudTrail" event',
      issues: formatIssues(parsed.error.issues, '(event)'),
    };
  }
  const d = parsed.data.detail;
  return {
    kind: 'ok',
    detail: d,
    trigger: {
      source: 'cloudtrail',
      eventName: d.eventName,
      eventId: d.eventID,
      eventTime: d.eventTime,
      actor: actorOf(d),
      ...(d.sourceIPAddress ? { sourceIp: d.sourceIPAddress } : {}),
      region: d.awsRegion,
      account: d.recipientAccountId,
    },
  };
}

/**
 * The loop guard: imds-guard's own calls (ModifyInstanceMetadataOptions, CreateLaunchTemplateVersion...)
 * produce CloudTrail events too. Self-caused means the session was issued by a Role whose exact ARN is one
 * of imds-guard's roles in the event's own account and partition: an IAM user or a federated session named
 * like the role, or a role of that name in another account, is not imds-guard.
 *
 * @example
 * isSelfCaused(detail, ['imds-guard-prod-eu-west-1-enforce-instances']) // issuer arn:aws:iam::<account>:role/<name>, type Role
 */
export function isSelfCaused(d: CloudTrailDetail, selfRoleNames: string[]): boolean {
  const issuer = d.userIdentity.sessionContext?.sessionIssuer;
  if (selfRoleNames.length === 0 || issuer?.type !== 'Role' || !issuer.arn) return false;
  return selfRoleArns(d, selfRoleNames).includes(issuer.arn);
}

/** The ARNs imds-guard's roles have in the event's account: `arn:<partition>:iam::<account>:role/<name>`. */
function selfRoleArns(d: Pick<CloudTrailDetail, 'awsRegion' | 'recipientAccountId'>, selfRoleNames: string[]): string[] {
  const partition = partitionOf(d.awsRegion);
  return selfRoleNames.map((name) => `arn:${partition}:iam::${d.recipientAccountId}:role/${name}`);
}

/** Common reasons to do nothing, in the order they are checked. */
export function ignoreReason(env: { detail: CloudTrailDetail; trigger: Trigger }, selfRoleNames: string[]): Ignored | undefined {
  const { detail: d, trigger } = env;
  if (d.errorCode) {
    return { kind: 'ignored', reason: 'failed-call', message: `${d.eventName} failed with ${d.errorCode}; nothing was created`, trigger };
  }
  if (isSelfCaused(d, selfRoleNames)) {
    return { kind: 'ignored', reason: 'self-caused', message: `${d.eventName} was made by imds-guard itself (${trigger.actor})`, trigger };
  }
  return undefined;
}

/**
 * The prologue every handler shares: a valid envelope, not a failed or self-caused call, and one of
 * the event names this handler subscribes to. Returns the early answer, or the detail to work on.
 */
export function acceptEvent(
  raw: unknown,
  selfRoleNames: string[],
  handles: readonly string[],
  handler: string,
): Ignored | Invalid | { kind: 'ok'; detail: CloudTrailDetail; trigger: Trigger } {
  const env = parseEnvelope(raw);
  if (env.kind === 'invalid') return env;
  const ignored = ignoreReason(env, selfRoleNames);
  if (ignored) return ignored;
  if (!handles.includes(env.detail.eventName)) {
    return {
      kind: 'ignored',
      reason: 'unsupported-event',
      message: `${handler} does not handle ${env.detail.eventName}`,
      trigger: env.trigger,
    };
  }
  return env;
}

// --- small helpers for CloudTrail's XML-ish JSON -----------------------------------------

/** CloudTrail renders one-element lists as a bare object; `{items:[...]}` wrappers are common too. */
export function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && 'items' in (v as object)) return asList((v as { items: unknown }).items);
  if (typeof v === 'object' && 'item' in (v as object)) return asList((v as { item: unknown }).item);
  return [v];
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Case-insensitive property lookup: CloudTrail mixes `launchTemplateId` and `LaunchTemplateId`. */
export function prop(o: unknown, ...names: string[]): unknown {
  const r = obj(o);
  if (!r) return undefined;
  for (const n of names) {
    if (r[n] !== undefined) return r[n];
    const hit = Object.keys(r).find((k) => k.toLowerCase() === n.toLowerCase());
    if (hit) return r[hit];
  }
  return undefined;
}

/** Bounds of collectIds: a hostile response cannot exhaust the stack or the run (the sweep catches the rest). */
export interface CollectBounds {
  maxDepth?: number;
  maxIds?: number;
  /** Nodes visited at most (strings, arrays and objects). */
  maxNodes?: number;
}

/**
 * Every distinct value matching a pattern anywhere in a JSON tree (defensive ID collection). Iterative,
 * with a depth, an ID count and a node count bound; what lies beyond them is not collected.
 *
 * @example
 * collectIds({ a: [{ id: 'i-0123456789abcdef0' }] }, /^i-[0-9a-f]{8,17}$/) // ['i-0123456789abcdef0']
 */
export function collectIds(tree: unknown, pattern: RegExp, bounds: CollectBounds = {}): string[] {
  const { maxDepth = 64, maxIds = 10_000, maxNodes = 1_000_000 } = bounds;
  const out = new Set<string>();
  const stack: [unknown, number][] = [[tree, 0]];
  let visited = 0;
  for (let top = stack.pop(); top && out.size < maxIds && visited++ < maxNodes; top = stack.pop()) {
    const [node, depth] = top;
    if (typeof node === 'string') {
      if (pattern.test(node)) out.add(node);
      continue;
    }
    if (depth >= maxDepth || !node || typeof node !== 'object') continue;
    const children = Array.isArray(node) ? node : Object.values(node);
    // Pushed in reverse so IDs come out in document order.
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], depth + 1]);
  }
  return [...out];
}
