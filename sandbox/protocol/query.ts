// AWS Query / EC2 Query request decoding: the inverse of the SDK's
// QueryShapeSerializer. EC2 flattens lists (`InstanceId.1`) and capitalizes
// keys; awsQuery (SNS/STS/IAM) nests lists as `X.member.N`, maps as `X.entry.N.key`.
import type { NormalizedSchema } from './schema.js';

export type Params = Map<string, string>;

export function parseForm(body: string): Params {
  const out: Params = new Map();
  for (const [k, v] of new URLSearchParams(body)) out.set(k, v);
  return out;
}

interface Ctx {
  params: Params;
  prefixes: Set<string>; // every dotted prefix of every key, for O(1) "anything under X?"
  ec2: boolean;
}

function prefixesOf(params: Params): Set<string> {
  const s = new Set<string>();
  for (const k of params.keys()) {
    let i = k.indexOf('.');
    while (i !== -1) {
      s.add(k.slice(0, i));
      i = k.indexOf('.', i + 1);
    }
    s.add(k);
  }
  return s;
}

export function decodeQuery(schema: NormalizedSchema, params: Params, ec2: boolean): Record<string, unknown> {
  const ctx: Ctx = { params, prefixes: prefixesOf(params), ec2 };
  return (readStruct(ctx, schema, '') ?? {}) as Record<string, unknown>;
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

function memberKey(ctx: Ctx, name: string, m: NormalizedSchema): string {
  const t = m.getMergedTraits();
  if (ctx.ec2) {
    if (typeof t.ec2QueryName === 'string') return t.ec2QueryName;
    const k = (t.xmlName as string | undefined) ?? name;
    return k.charAt(0).toUpperCase() + k.slice(1);
  }
  return (t.xmlName as string | undefined) ?? name;
}

function read(ctx: Ctx, ns: NormalizedSchema, key: string): unknown {
  if (ns.isStructSchema()) return readStruct(ctx, ns, key);
  if (ns.isListSchema()) return readList(ctx, ns, key);
  if (ns.isMapSchema()) return readMap(ctx, ns, key);
  const raw = ctx.params.get(key);
  if (raw === undefined) return undefined;
  if (ns.isNumericSchema()) return Number(raw);
  if (ns.isBooleanSchema()) return raw === 'true';
  if (ns.isTimestampSchema()) return new Date(/^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : raw);
  return raw; // strings; blobs stay base64 text
}

function readStruct(ctx: Ctx, ns: NormalizedSchema, prefix: string): Record<string, unknown> | undefined {
  if (prefix && !ctx.prefixes.has(prefix)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [name, m] of ns.structIterator()) {
    const v = read(ctx, m, join(prefix, memberKey(ctx, name, m)));
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function readList(ctx: Ctx, ns: NormalizedSchema, key: string): unknown[] | undefined {
  if (!ctx.prefixes.has(key)) return undefined;
  if (ctx.params.get(key) === '') return []; // awsQuery serializes empty lists as `X=`
  const member = ns.getValueSchema();
  const flat = ctx.ec2 || !!ns.getMergedTraits().xmlFlattened;
  const base = flat ? key : `${key}.${(member.getMergedTraits().xmlName as string | undefined) ?? 'member'}`;
  const out: unknown[] = [];
  for (let i = 1; ctx.prefixes.has(`${base}.${i}`); i++) out.push(read(ctx, member, `${base}.${i}`));
  return out;
}

function readMap(ctx: Ctx, ns: NormalizedSchema, key: string): Record<string, unknown> | undefined {
  if (!ctx.prefixes.has(key)) return undefined;
  const flat = !!ns.getMergedTraits().xmlFlattened;
  const kName = (ns.getKeySchema().getMergedTraits().xmlName as string | undefined) ?? 'key';
  const vName = (ns.getValueSchema().getMergedTraits().xmlName as string | undefined) ?? 'value';
  const base = flat ? key : `${key}.entry`;
  const out: Record<string, unknown> = {};
  for (let i = 1; ctx.prefixes.has(`${base}.${i}`); i++) {
    const k = ctx.params.get(`${base}.${i}.${kName}`);
    if (k !== undefined) out[k] = read(ctx, ns.getValueSchema(), `${base}.${i}.${vName}`);
  }
  return out;
}

/** Schema-less helper for hand-rolled services: `X.member.1`, `X.member.2`, ... */
export function memberList(params: Params, key: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${key}.member.${i}`); i++) out.push(params.get(`${key}.member.${i}`)!);
  return out;
}
