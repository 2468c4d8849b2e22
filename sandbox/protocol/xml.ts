// XML responses for EC2 Query and awsQuery, driven by the SDK output schema.
// Values are SDK-shaped objects (PascalCase members, Date timestamps).
import type { NormalizedSchema } from './schema.js';

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function elName(name: string, m: NormalizedSchema): string {
  return (m.getMergedTraits().xmlName as string | undefined) ?? name;
}

function scalar(ns: NormalizedSchema, v: unknown): string {
  if (ns.isTimestampSchema()) {
    const d = v instanceof Date ? v : new Date(typeof v === 'number' ? v * 1000 : String(v));
    return d.toISOString();
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return esc(String(v));
}

/** Children of a value of schema `ns` (without the enclosing element). */
export function encodeBody(ns: NormalizedSchema, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (ns.isStructSchema()) {
    const obj = v as Record<string, unknown>;
    let out = '';
    for (const [name, m] of ns.structIterator()) {
      if (obj[name] === undefined || obj[name] === null) continue;
      out += encodeMember(elName(name, m), m, obj[name]);
    }
    return out;
  }
  if (ns.isListSchema()) {
    const m = ns.getValueSchema();
    const item = (m.getMergedTraits().xmlName as string | undefined) ?? 'member';
    return (v as unknown[]).map((x) => `<${item}>${encodeBody(m, x)}</${item}>`).join('');
  }
  if (ns.isMapSchema()) {
    const k = (ns.getKeySchema().getMergedTraits().xmlName as string | undefined) ?? 'key';
    const val = (ns.getValueSchema().getMergedTraits().xmlName as string | undefined) ?? 'value';
    return Object.entries(v as Record<string, unknown>)
      .map(([key, x]) => `<entry><${k}>${esc(key)}</${k}><${val}>${encodeBody(ns.getValueSchema(), x)}</${val}></entry>`)
      .join('');
  }
  return scalar(ns, v);
}

function encodeMember(el: string, m: NormalizedSchema, v: unknown): string {
  if (m.isListSchema() && m.getMergedTraits().xmlFlattened) {
    return (v as unknown[]).map((x) => `<${el}>${encodeBody(m.getValueSchema(), x)}</${el}>`).join('');
  }
  return `<${el}>${encodeBody(m, v)}</${el}>`;
}

const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function ec2Response(action: string, requestId: string, body: string): string {
  return `${DECL}<${action}Response xmlns="${EC2_XMLNS}"><requestId>${requestId}</requestId>${body}</${action}Response>`;
}

export function ec2Error(code: string, message: string, requestId: string): string {
  return `${DECL}<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}

export function queryResponse(action: string, xmlns: string, requestId: string, body: string): string {
  return (
    `${DECL}<${action}Response xmlns="${xmlns}"><${action}Result>${body}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function queryError(xmlns: string, type: 'Sender' | 'Receiver', code: string, message: string, requestId: string): string {
  return (
    `${DECL}<ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${esc(code)}</Code>` +
    `<Message>${esc(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
