// Account-level instance metadata defaults (REFERENCE §6): the posture per Region and the change
// that fixes it. Pure. Defaults are preventive: they apply only where a launch does not say
// otherwise, and EKS default launch templates do say otherwise (tokens optional, hop 2).
import type { HttpTokens, MetadataOptions, Policy, Toggle } from '../../domain/policy.js';

type EnforcedState = 'enabled' | 'disabled';

/** GetInstanceMetadataDefaults, normalised. Unset fields mean "no preference". */
export interface AccountDefaults {
  httpTokens?: HttpTokens;
  hopLimit?: number;
  httpEndpoint?: Toggle;
  instanceMetadataTags?: Toggle;
  httpTokensEnforced?: EnforcedState;
  /** `account` or `declarative-policy` (then the account-level API cannot change it). */
  managedBy?: string;
  managedExceptionMessage?: string;
}

/** What ModifyInstanceMetadataDefaults sends. Both policy fields always, like instance remediation. */
export interface DefaultsChange {
  httpTokens: 'required';
  hopLimit: number;
  httpTokensEnforced?: 'enabled';
}

export interface DefaultsPosture {
  compliant: boolean;
  violations: string[];
  /** Undefined when compliant, or when a declarative policy manages the defaults. */
  change?: DefaultsChange;
  managedByPolicy: boolean;
  notes: string[];
}

export const ENFORCED_WARNING =
  'HttpTokensEnforced=enabled makes EVERY launch in this Region whose effective HttpTokens is not "required" fail with ' +
  'UnsupportedOperation. EKS managed node groups on the EKS default launch template (tokens optional) will then fail to scale ' +
  'and to replace nodes, and so will any other template or tool that sets HttpTokens=optional. Move those node groups to ' +
  'custom templates with HttpTokens=required first.';

export interface DefaultsWanted {
  /** Also require HttpTokensEnforced=enabled (opt-in: see ENFORCED_WARNING). */
  enforceTokens?: boolean;
}

export function evaluateDefaults(d: AccountDefaults, policy: Policy, want: DefaultsWanted = {}): DefaultsPosture {
  const managedByPolicy = d.managedBy === 'declarative-policy';
  const notes: string[] = [];
  const violations: string[] = [];
  if (d.httpEndpoint !== 'disabled') {
    if (d.httpTokens !== 'required') violations.push(`HttpTokens is ${d.httpTokens ?? 'no-preference'}, expected required`);
    if (d.hopLimit === undefined || d.hopLimit > policy.maxHopLimit) {
      violations.push(`HttpPutResponseHopLimit is ${d.hopLimit ?? 'no-preference'}, expected <= ${policy.maxHopLimit}`);
    }
  }
  if (want.enforceTokens && d.httpTokensEnforced !== 'enabled')
    violations.push(`HttpTokensEnforced is ${d.httpTokensEnforced ?? 'no-preference'}, expected enabled`);
  if (d.httpTokensEnforced === 'enabled')
    notes.push(
      'HttpTokensEnforced=enabled: launches that do not require tokens (e.g. EKS default launch templates) fail with UnsupportedOperation',
    );
  if (managedByPolicy)
    notes.push(
      `managed by a declarative policy${d.managedExceptionMessage ? ` (${d.managedExceptionMessage})` : ''}: ` +
        'change it in AWS Organizations, not per account',
    );
  notes.push(
    'Account defaults only apply where the launch does not set MetadataOptions; EKS default launch templates set tokens ' +
      'optional and hop limit 2, so imds-guard still fixes those nodes.',
  );
  const compliant = violations.length === 0;
  const change: DefaultsChange | undefined =
    compliant || managedByPolicy
      ? undefined
      : {
          httpTokens: 'required',
          hopLimit: d.hopLimit !== undefined && d.hopLimit <= policy.maxHopLimit ? d.hopLimit : policy.maxHopLimit,
          ...(want.enforceTokens ? { httpTokensEnforced: 'enabled' as const } : {}),
        };
  return { compliant, violations, ...(change ? { change } : {}), managedByPolicy, notes };
}

/** The defaults after a change (fields outside the policy keep their state). */
export function applyDefaultsChange(d: AccountDefaults, c: DefaultsChange): AccountDefaults {
  return {
    ...d,
    httpTokens: c.httpTokens,
    hopLimit: c.hopLimit,
    ...(c.httpTokensEnforced ? { httpTokensEnforced: c.httpTokensEnforced } : {}),
  };
}

/** The MetadataOptions view for audit records (before/after). */
export function defaultsAsOptions(d: AccountDefaults): MetadataOptions {
  return {
    ...(d.httpTokens ? { httpTokens: d.httpTokens } : {}),
    ...(d.hopLimit !== undefined ? { hopLimit: d.hopLimit } : {}),
    ...(d.httpEndpoint ? { httpEndpoint: d.httpEndpoint } : {}),
    ...(d.instanceMetadataTags ? { instanceMetadataTags: d.instanceMetadataTags } : {}),
  };
}

/** Normalise GetInstanceMetadataDefaults' AccountLevel (PascalCase, "no-preference" / -1 = unset). */
export function toAccountDefaults(raw: Record<string, unknown> | undefined): AccountDefaults {
  if (!raw) return {};
  const s = (k: string) => (typeof raw[k] === 'string' && raw[k] !== 'no-preference' ? (raw[k] as string) : undefined);
  const out: AccountDefaults = {};
  const tokens = s('HttpTokens');
  if (tokens === 'optional' || tokens === 'required') out.httpTokens = tokens;
  const hop = raw.HttpPutResponseHopLimit;
  if (typeof hop === 'number' && hop >= 1 && hop <= 64) out.hopLimit = hop;
  const ep = s('HttpEndpoint');
  if (ep === 'enabled' || ep === 'disabled') out.httpEndpoint = ep;
  const tags = s('InstanceMetadataTags');
  if (tags === 'enabled' || tags === 'disabled') out.instanceMetadataTags = tags;
  const enforced = s('HttpTokensEnforced');
  if (enforced === 'enabled' || enforced === 'disabled') out.httpTokensEnforced = enforced;
  const managedBy = s('ManagedBy');
  if (managedBy) out.managedBy = managedBy;
  const msg = s('ManagedExceptionMessage');
  if (msg) out.managedExceptionMessage = msg;
  return out;
}
