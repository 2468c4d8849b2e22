// --regions is checked against the Regions the SDK's partition table lists (lib/domain/partitions.json), so a
// typo fails before any call, naming the closest real Regions.
import { SDK_PARTITIONS } from '../lib/domain/partitions.js';

const KNOWN = SDK_PARTITIONS.flatMap((p) => p.regions);

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The Regions closest to `name` by edit distance (ties in table order), at most `n`.
 * @example
 * nearestRegions('eu-west-9'); // ['eu-west-1', 'eu-west-2', 'eu-west-3']
 */
export function nearestRegions(name: string, n = 3): string[] {
  return KNOWN.map((r) => ({ r, d: distance(name, r) }))
    .sort((x, y) => x.d - y.d)
    .slice(0, n)
    .map((x) => x.r);
}

/**
 * Why `name` is not a Region the partition table lists, or undefined when it is.
 * @example
 * unknownRegion('eu-west-9'); // '"eu-west-9" is not an AWS Region (…); nearest: eu-west-1, eu-west-2, eu-west-3'
 */
export function unknownRegion(name: string): string | undefined {
  if (KNOWN.includes(name)) return undefined;
  const nearest = nearestRegions(name).join(', ');
  return `"${name}" is not an AWS Region in the SDK's partition table (lib/domain/partitions.json); nearest: ${nearest}`;
}
