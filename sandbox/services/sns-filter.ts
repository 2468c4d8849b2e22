// A subset of SNS filter policy matching: exact strings/numbers, prefix,
// suffix, anything-but, exists, numeric ranges, and nested keys (MessageBody scope).

type Cond = unknown;

function numericOk(ops: unknown[], v: number): boolean {
  for (let i = 0; i + 1 < ops.length; i += 2) {
    const n = Number(ops[i + 1]);
    const ok = { '=': v === n, '>': v > n, '>=': v >= n, '<': v < n, '<=': v <= n }[String(ops[i])];
    if (!ok) return false;
  }
  return true;
}

function condMatches(c: Cond, v: unknown): boolean {
  if (v === undefined) return typeof c === 'object' && c !== null && (c as { exists?: boolean }).exists === false;
  if (Array.isArray(v)) return v.some((x) => condMatches(c, x));
  if (typeof c === 'string' || typeof c === 'number' || typeof c === 'boolean' || c === null) return c === v;
  const o = c as Record<string, unknown>;
  if ('exists' in o) return o.exists === true;
  if ('prefix' in o) return typeof v === 'string' && v.startsWith(String(o.prefix));
  if ('suffix' in o) return typeof v === 'string' && v.endsWith(String(o.suffix));
  if ('numeric' in o) return typeof v === 'number' && numericOk(o.numeric as unknown[], v);
  if ('anything-but' in o) {
    const ab = o['anything-but'];
    if (Array.isArray(ab)) return !ab.includes(v);
    if (typeof ab === 'object' && ab !== null && 'prefix' in ab)
      return !(typeof v === 'string' && v.startsWith(String((ab as { prefix: unknown }).prefix)));
    return ab !== v;
  }
  return false;
}

export function matchPolicy(policy: Record<string, unknown>, values: Record<string, unknown>): boolean {
  if (Array.isArray(policy.$or)) {
    const { $or, ...rest } = policy;
    return ($or as Record<string, unknown>[]).some((p) => matchPolicy({ ...rest, ...p }, values));
  }
  return Object.entries(policy).every(([key, conds]) => {
    const v = values[key];
    if (!Array.isArray(conds)) {
      // Nested key (MessageBody scope).
      return typeof v === 'object' && v !== null && matchPolicy(conds as Record<string, unknown>, v as Record<string, unknown>);
    }
    return conds.some((c) => condMatches(c, v));
  });
}
