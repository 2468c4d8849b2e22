// Tags arrive as [{Key,Value}], [{key,value}] (CloudTrail) or a map. One shape inside the core.
export type Tags = Record<string, string>;

export function toTags(raw: unknown): Tags {
  if (!raw) return {};
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null && 'items' in raw
      ? (raw as { items: unknown }).items
      : undefined;
  if (Array.isArray(list)) {
    const out: Tags = {};
    for (const t of list) {
      if (!t || typeof t !== 'object') continue;
      const o = t as Record<string, unknown>;
      const k = o.Key ?? o.key;
      const v = o.Value ?? o.value ?? '';
      if (typeof k === 'string') out[k] = String(v);
    }
    return out;
  }
  if (typeof raw === 'object' && raw !== null) {
    return Object.fromEntries(Object.entries(raw).filter(([, v]) => typeof v === 'string')) as Tags;
  }
  return {};
}
