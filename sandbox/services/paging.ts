// Opaque pagination tokens. The scope ties a token to the listing that made it,
// so a token from another call is rejected like AWS does.
import type { AwsError } from '../errors.js';

export function page<T>(
  items: T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  scope: string,
  badToken: () => AwsError,
): { items: T[]; next?: string } {
  let start = 0;
  if (nextToken) {
    try {
      const t = JSON.parse(Buffer.from(nextToken, 'base64url').toString('utf8')) as { s?: string; o?: number };
      if (t.s !== scope || typeof t.o !== 'number' || t.o < 0) throw new Error('scope');
      start = t.o;
    } catch {
      throw badToken();
    }
  }
  if (maxResults === undefined) return { items: items.slice(start) };
  const end = start + maxResults;
  const next = end < items.length ? Buffer.from(JSON.stringify({ s: scope, o: end })).toString('base64url') : undefined;
  return { items: items.slice(start, end), next };
}
