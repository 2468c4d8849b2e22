// Region names and their partitions, kept free of the SDK like the rest of the core. The table is the
// SDK's partition table (partitions.ts); test/domain/region.test.ts checks both against @aws-sdk/core.
import { SDK_PARTITIONS } from './partitions.js';

/** The shape of every Region name AWS uses, including longer prefixes such as `eusc-de-east-1`. */
const REGION_SHAPE = '[a-z]{2,4}(?:-[a-z]+)+-\\d{1,2}';

const unanchored = (re: string) => re.replace(/^\^/, '').replace(/\$$/, '');

/**
 * A Region name: the lower-case shape, and a name one of the SDK's partitions resolves by its pattern
 * (`evil-attacker-1` is not; a new `ap-southeast-9` is). Every caller that checks a Region uses this.
 *
 * @example
 * REGION_NAME.test('eusc-de-east-1') // true
 * REGION_NAME.test('evil-attacker-1') // false
 */
export const REGION_NAME = new RegExp(`^(?=${REGION_SHAPE}$)(?:${SDK_PARTITIONS.map((p) => unanchored(p.regionRegex)).join('|')})$`);

/**
 * Whether a string is a Region name (see REGION_NAME).
 *
 * @example
 * isRegion('eu-west-1') // true
 */
export function isRegion(region: string): boolean {
  return REGION_NAME.test(region);
}

/**
 * The ARN partition of a Region, as the SDK resolves it: the partition listing it, else the first whose
 * pattern matches, else `aws`.
 *
 * @example
 * partitionOf('cn-north-1') // 'aws-cn'
 */
export function partitionOf(region: string): string {
  const listed = SDK_PARTITIONS.find((p) => p.regions.includes(region));
  return (listed ?? SDK_PARTITIONS.find((p) => new RegExp(p.regionRegex).test(region)))?.id ?? 'aws';
}
