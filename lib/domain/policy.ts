// The policy engine: pure functions over MetadataOptions. No SDK imports.
import * as z from 'zod/mini';

const HttpTokensSchema = z.enum(['optional', 'required']);
const ToggleSchema = z.enum(['enabled', 'disabled']);
export type HttpTokens = z.infer<typeof HttpTokensSchema>;
export type Toggle = z.infer<typeof ToggleSchema>;

/** MetadataOptions as imds-guard sees them (and audit records carry them). Any field may be unknown (missing from an event). */
export const MetadataOptionsSchema = z.object({
  httpTokens: z.optional(HttpTokensSchema),
  hopLimit: z.optional(z.number()),
  httpEndpoint: z.optional(ToggleSchema),
  instanceMetadataTags: z.optional(ToggleSchema),
  httpProtocolIpv6: z.optional(ToggleSchema),
});
export type MetadataOptions = z.infer<typeof MetadataOptionsSchema>;

export interface Policy {
  /** Highest compliant HttpPutResponseHopLimit. 1 keeps tokens away from bridged pods. */
  maxHopLimit: number;
  /**
   * Identity gate `hold`: require tokens but leave the hop limit alone, for clusters
   * whose pods may still rely on the node role.
   */
  holdHopLimit?: boolean;
}

export type Violation =
  | { field: 'HttpTokens'; actual: HttpTokens | 'unknown'; expected: 'required' }
  | { field: 'HttpPutResponseHopLimit'; actual: number | 'unknown'; expected: string };

export type Evaluation = { compliant: true; violations: [] } | { compliant: false; violations: Violation[] };

/**
 * Compliant = IMDS disabled, or tokens required with a hop limit at or below the maximum.
 * A missing field is treated as the worst case: the API's own default for HttpTokens is optional.
 */
export function evaluate(options: MetadataOptions, policy: Policy): Evaluation {
  if (options.httpEndpoint === 'disabled') return { compliant: true, violations: [] };
  const violations: Violation[] = [];
  if (options.httpTokens !== 'required') {
    violations.push({ field: 'HttpTokens', actual: options.httpTokens ?? 'unknown', expected: 'required' });
  }
  if (!policy.holdHopLimit && !(options.hopLimit !== undefined && options.hopLimit <= policy.maxHopLimit)) {
    violations.push({
      field: 'HttpPutResponseHopLimit',
      actual: options.hopLimit ?? 'unknown',
      expected: `<= ${policy.maxHopLimit}`,
    });
  }
  return violations.length === 0 ? { compliant: true, violations: [] } : { compliant: false, violations };
}

/** The exact fields a ModifyInstanceMetadataOptions call (or template version) sends. */
export interface Remediation {
  /** Always sent: the API reads an omitted HttpTokens as `optional`, i.e. back to IMDSv1. */
  httpTokens: 'required';
  /** Omitted only under the `hold` gate with an unknown current value: the API then keeps the state. */
  hopLimit?: number;
}

/**
 * Plan the change for non-compliant options. Only policy fields are touched, and a compliant
 * hop limit is kept as it is (a node deliberately at 1 stays at 1 even if the policy allows 2).
 */
export function planRemediation(options: MetadataOptions, policy: Policy): Remediation {
  const hop = options.hopLimit;
  if (policy.holdHopLimit) return hop === undefined ? { httpTokens: 'required' } : { httpTokens: 'required', hopLimit: hop };
  return { httpTokens: 'required', hopLimit: hop !== undefined && hop <= policy.maxHopLimit ? hop : policy.maxHopLimit };
}

/** The options we expect after a remediation: fields outside the policy keep their state. */
export function applyRemediation(options: MetadataOptions, r: Remediation): MetadataOptions {
  return { ...options, httpTokens: r.httpTokens, ...(r.hopLimit !== undefined ? { hopLimit: r.hopLimit } : {}) };
}

export function describeViolations(violations: Violation[]): string[] {
  return violations.map((v) => `${v.field} is ${v.actual}, expected ${v.expected}`);
}

/** Normalise the many spellings AWS uses (API, CloudTrail, launch template data). */
export function toMetadataOptions(raw: Record<string, unknown> | undefined | null): MetadataOptions | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const pick = (...keys: string[]) => {
    for (const k of keys) if (raw[k] !== undefined && raw[k] !== null && raw[k] !== '') return raw[k];
    return undefined;
  };
  const tokens = pick('HttpTokens', 'httpTokens');
  const hop = pick('HttpPutResponseHopLimit', 'httpPutResponseHopLimit');
  const endpoint = pick('HttpEndpoint', 'httpEndpoint');
  const tags = pick('InstanceMetadataTags', 'instanceMetadataTags');
  const ipv6 = pick('HttpProtocolIpv6', 'httpProtocolIpv6');
  const out: MetadataOptions = {};
  if (tokens === 'optional' || tokens === 'required') out.httpTokens = tokens;
  const hopNum = typeof hop === 'string' ? Number(hop) : hop;
  if (typeof hopNum === 'number' && Number.isInteger(hopNum) && hopNum >= 1 && hopNum <= 64) out.hopLimit = hopNum;
  if (endpoint === 'enabled' || endpoint === 'disabled') out.httpEndpoint = endpoint;
  if (tags === 'enabled' || tags === 'disabled') out.instanceMetadataTags = tags;
  if (ipv6 === 'enabled' || ipv6 === 'disabled') out.httpProtocolIpv6 = ipv6;
  return out;
}

/** True when we know enough to evaluate without a Describe call. */
export function isComplete(o: MetadataOptions | undefined): o is MetadataOptions {
  if (!o) return false;
  if (o.httpEndpoint === 'disabled') return true;
  return o.httpTokens !== undefined && o.hopLimit !== undefined;
}
