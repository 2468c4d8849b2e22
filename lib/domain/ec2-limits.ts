// EC2's API token buckets per account and Region (REFERENCE §2), and which bucket an action draws
// from. Pure data: the client-side rate limiter and the sandbox's throttling both use it.

export type BucketClass =
  | 'ModifyInstanceMetadataOptions'
  | 'CreateLaunchTemplateVersion'
  | 'ModifyLaunchTemplate'
  | 'ModifyInstanceMetadataDefaults'
  | 'non-mutating'
  | 'unfiltered-non-mutating'
  | 'mutating';

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

/** AWS's published buckets (per account and Region). */
export const EC2_BUCKETS: Record<BucketClass, BucketSpec> = {
  ModifyInstanceMetadataOptions: { capacity: 100, refillPerSecond: 5 },
  CreateLaunchTemplateVersion: { capacity: 100, refillPerSecond: 5 },
  ModifyLaunchTemplate: { capacity: 100, refillPerSecond: 5 },
  ModifyInstanceMetadataDefaults: { capacity: 2, refillPerSecond: 2 },
  'non-mutating': { capacity: 100, refillPerSecond: 20 },
  'unfiltered-non-mutating': { capacity: 50, refillPerSecond: 10 },
  mutating: { capacity: 50, refillPerSecond: 5 },
};

const OWN_BUCKET = new Set<string>([
  'ModifyInstanceMetadataOptions',
  'CreateLaunchTemplateVersion',
  'ModifyLaunchTemplate',
  'ModifyInstanceMetadataDefaults',
]);

/**
 * The bucket an EC2 action draws from. Non-mutating actions share one category bucket, as in AWS;
 * only an unfiltered, unpaginated DescribeInstances falls in the smaller bucket.
 */
export function classifyEc2(action: string, input: Record<string, unknown> = {}): BucketClass {
  if (OWN_BUCKET.has(action)) return action as BucketClass;
  if (/^(Describe|Get|List|Search)/.test(action)) {
    const narrowed = ['Filters', 'MaxResults', 'NextToken', 'InstanceIds'].some((k) => {
      const v = input[k];
      return Array.isArray(v) ? v.length > 0 : v !== undefined;
    });
    return action === 'DescribeInstances' && !narrowed ? 'unfiltered-non-mutating' : 'non-mutating';
  }
  return 'mutating';
}
