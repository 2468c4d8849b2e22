// Tags arrive as [{Key,Value}], [{key,value}] (CloudTrail) or a map. One shape inside the core.
// CloudTrail's EC2 rendering makes a list of one a bare object carrying "tag": 1, under `items` or `item`
// or alone (issue 16, events/run-instances-tag-one.json): that is one tag, and "tag" is no tag key.
export type Tags = Record<string, string>;

const TAG_FIELDS = new Set(['Key', 'key', 'Value', 'value', 'tag']);

/** One tag rendered as a bare object: a string Key/key, a value or the "tag" marker, and nothing else. */
function isSingleTag(o: Record<string, unknown>): boolean {
  const keys = Object.keys(o);
  return typeof (o.Key ?? o.key) === 'string' && keys.length > 1 && keys.every((k) => TAG_FIELDS.has(k));
}

/**
 * Tags of any shape CloudTrail, the SDK or a map gives, as a map.
 * @example toTags({ items: { tag: 1, key: 'team', value: 'pay' } }) // { team: 'pay' }
 */
export function toTags(raw: unknown): Tags {
  if (!raw || typeof raw !== 'object') return {};
  const o = raw as Record<string, unknown>;
  if (!Array.isArray(raw)) {
    const nested = o.items ?? o.item;
    if (nested && typeof nested === 'object') return toTags(nested);
    if (isSingleTag(o)) return toTags([o]);
    return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'string')) as Tags;
  }
  const out: Tags = {};
  for (const t of raw) {
    if (!t || typeof t !== 'object') continue;
    const e = t as Record<string, unknown>;
    const k = e.Key ?? e.key;
    const v = e.Value ?? e.value ?? '';
    if (typeof k === 'string') out[k] = String(v);
  }
  return out;
}
