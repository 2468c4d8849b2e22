// Region names and their partitions, kept free of the SDK like the rest of the core. The table mirrors
// the SDK's partitions; test/domain/region.test.ts checks it against @aws-sdk/core's partition().

/** Every Region name AWS uses, including longer prefixes such as `eusc-de-east-1` (European Sovereign Cloud). */
export const REGION_NAME = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

const PARTITIONS: [RegExp, string][] = [
  [/^cn-/, 'aws-cn'],
  [/^us-gov-/, 'aws-us-gov'],
  [/^us-iso-/, 'aws-iso'],
  [/^us-isob-/, 'aws-iso-b'],
  [/^eu-isoe-/, 'aws-iso-e'],
  [/^us-isof-/, 'aws-iso-f'],
  [/^eusc-/, 'aws-eusc'],
];

/** The ARN partition of a Region: `aws` unless the Region belongs to one of the separate partitions. */
export function partitionOf(region: string): string {
  return PARTITIONS.find(([re]) => re.test(region))?.[1] ?? 'aws';
}
