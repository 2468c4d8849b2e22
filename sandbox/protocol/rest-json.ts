// REST-JSON (EKS): routes come from the SDK operations' `@http` traits, so every
// real EKS path is recognized, including the ones the sandbox does not implement.
import { NormalizedSchema } from './schema.js';
import type { StaticOperationSchema } from '@smithy/types';

export interface Route {
  op: string;
  method: string;
  re: RegExp;
  labels: string[];
  input: NormalizedSchema;
}

export function buildRoutes(mod: Record<string, unknown>): Route[] {
  const routes: Route[] = [];
  for (const [k, v] of Object.entries(mod)) {
    if (!k.endsWith('$') || !Array.isArray(v) || v[0] !== 9) continue;
    const s = v as StaticOperationSchema;
    const http = (s[3] as { http?: [string, string, number] } | undefined)?.http;
    if (!http) continue;
    const [method, template] = http;
    const labels: string[] = [];
    const pattern = template
      .split('?')[0]!
      .split('/')
      .map((seg) => {
        const m = /^\{(\w+)(\+?)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        labels.push(m[1]!);
        return m[2] ? '(.+)' : '([^/]+)';
      })
      .join('/');
    routes.push({ op: k.slice(0, -1), method, re: new RegExp(`^${pattern}/?$`), labels, input: NormalizedSchema.of(s[4]) });
  }
  // Literal segments before labels, so `/clusters/x/addons` never matches a `{name}` route first.
  return routes.sort((a, b) => a.labels.length - b.labels.length);
}

export function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route?: Route; labels: Record<string, string>; pathKnown: boolean } {
  let pathKnown = false;
  for (const route of routes) {
    const m = route.re.exec(path);
    if (!m) continue;
    pathKnown = true;
    if (route.method !== method) continue;
    const labels: Record<string, string> = {};
    route.labels.forEach((l, i) => {
      labels[l] = decodeURIComponent(m[i + 1]!);
    });
    return { route, labels, pathKnown };
  }
  return { labels: {}, pathKnown };
}

function fromString(ns: NormalizedSchema, raw: string): unknown {
  if (ns.isNumericSchema()) return Number(raw);
  if (ns.isBooleanSchema()) return raw === 'true';
  return raw;
}

export function decodeRest(route: Route, labels: Record<string, string>, query: URLSearchParams, body: string): Record<string, unknown> {
  const json = body ? (JSON.parse(body) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [name, m] of route.input.structIterator()) {
    const t = m.getMergedTraits();
    if (t.httpLabel) out[name] = labels[name];
    else if (typeof t.httpQuery === 'string') {
      const vals = query.getAll(t.httpQuery);
      if (!vals.length) continue;
      out[name] = m.isListSchema() ? vals.map((x) => fromString(m.getValueSchema(), x)) : fromString(m, vals[0]!);
    } else if (t.httpHeader || t.httpPrefixHeaders) continue;
    else if (json[name] !== undefined) out[name] = json[name];
  }
  return out;
}

/** JSON with timestamps as epoch seconds (the REST-JSON default). */
export function toJson(v: unknown): unknown {
  if (v instanceof Date) return v.getTime() / 1000;
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJson(x);
    return out;
  }
  return v;
}
