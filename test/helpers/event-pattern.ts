// EventBridge pattern matching, for the subset the rules in serverless.yml use: literal values,
// `exists`, `anything-but` (a value or a list), `prefix`, nested objects and `$or`. Semantics as
// documented by EventBridge: every field of the pattern must match; an array in the event matches
// when any element does; `anything-but` and literals never match a missing field, `exists: false` does.
type Pattern = Record<string, unknown>;

export function matches(pattern: Pattern, event: unknown): boolean {
  return Object.entries(pattern).every(([key, want]) => {
    if (key === '$or') return (want as Pattern[]).some((alt) => matches(alt, event));
    const value = (event as Record<string, unknown> | undefined)?.[key];
    if (Array.isArray(want)) return want.some((rule) => matchesValue(rule, value));
    // An array of objects in the event matches a nested pattern when any element does (EventBridge flattens arrays).
    if (want && typeof want === 'object' && Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object'))
      return value.some((v) => matches(want as Pattern, v));
    // Patterns match leaf paths: `{ exists: false }` below a missing parent still matches.
    if (want && typeof want === 'object') return matches(want as Pattern, value !== null && typeof value === 'object' ? value : undefined);
    throw new Error(`unsupported pattern at ${key}: ${JSON.stringify(want)}`);
  });
}

function matchesValue(rule: unknown, value: unknown): boolean {
  if (rule && typeof rule === 'object') {
    const r = rule as Record<string, unknown>;
    if ('exists' in r) return r.exists === (value !== undefined);
    if (value === undefined) return false;
    const values = Array.isArray(value) ? value : [value];
    if ('anything-but' in r) {
      const excluded = Array.isArray(r['anything-but']) ? r['anything-but'] : [r['anything-but']];
      return values.some((v) => !excluded.includes(v));
    }
    if ('prefix' in r) return values.some((v) => typeof v === 'string' && v.startsWith(String(r.prefix)));
    throw new Error(`unsupported pattern rule ${JSON.stringify(rule)}`);
  }
  return (Array.isArray(value) ? value : [value]).includes(rule);
}
