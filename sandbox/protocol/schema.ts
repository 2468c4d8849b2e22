// Wire names come from the installed SDK's own Smithy schemas, so the sandbox
// decodes exactly what the client serializes and emits exactly the element
// names its deserializer looks for (e.g. EC2 `reservationSet/item`).
import { NormalizedSchema } from '@smithy/core/schema';
import type { StaticOperationSchema } from '@smithy/types';

export { NormalizedSchema };

export interface OpSchemas {
  input: NormalizedSchema;
  output: NormalizedSchema;
}

/** Looks up `<Op>$` in a client module (e.g. `@aws-sdk/client-ec2`). */
export function opSchemas(mod: Record<string, unknown>, op: string): OpSchemas | undefined {
  const s = mod[`${op}$`] as StaticOperationSchema | undefined;
  if (!Array.isArray(s) || s[0] !== 9) return undefined;
  return { input: NormalizedSchema.of(s[4]), output: NormalizedSchema.of(s[5]) };
}

/** Every operation name a client module knows (for "known but not implemented" errors). */
export function opNames(mod: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(mod)) {
    if (k.endsWith('$') && Array.isArray(v) && v[0] === 9) out.add(k.slice(0, -1));
  }
  return out;
}
