// The sandbox's own copy of EC2's API token buckets, written from AWS's documentation and not from lib/, so a
// wrong constant in the product's limiter (lib/domain/ec2-limits.ts) cannot confirm itself in tests.
// Source: Amazon EC2 Developer Guide, "Request throttling for the Amazon EC2 API", sections "Request token bucket
// sizes and refill rates" and "Resource rate limiting" (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html),
// as summarised in REFERENCE §2. The buckets are per account and Region. test/sandbox/throttle-table.test.ts
// asserts this table and lib's agree.

export type SandboxBucketClass =
  | 'ModifyInstanceMetadataOptions'
  | 'CreateLaunchTemplateVersion'
  | 'ModifyLaunchTemplate'
  | 'ModifyInstanceMetadataDefaults'
  | 'non-mutating'
  | 'unfiltered-non-mutating'
  | 'mutating';

/** Bucket capacity and refill per second, per the EC2 throttling page. */
export const SANDBOX_EC2_BUCKETS: Record<SandboxBucketClass, { capacity: number; refill: number }> = {
  // Actions with their own bucket (the page's table of individual actions).
  ModifyInstanceMetadataOptions: { capacity: 100, refill: 5 },
  CreateLaunchTemplateVersion: { capacity: 100, refill: 5 },
  ModifyLaunchTemplate: { capacity: 100, refill: 5 },
  ModifyInstanceMetadataDefaults: { capacity: 2, refill: 2 },
  // Category buckets: non-mutating (Describe*, filtered or paginated), unfiltered and unpaginated, other mutating.
  'non-mutating': { capacity: 100, refill: 20 },
  'unfiltered-non-mutating': { capacity: 50, refill: 10 },
  mutating: { capacity: 50, refill: 5 },
};

const OWN_BUCKET = new Set<string>([
  'ModifyInstanceMetadataOptions',
  'CreateLaunchTemplateVersion',
  'ModifyLaunchTemplate',
  'ModifyInstanceMetadataDefaults',
]);

/**
 * The bucket an EC2 action draws from, as the throttling page describes it: the listed actions have their own
 * bucket; Describe/Get/List/Search share the non-mutating bucket, and only an unfiltered, unpaginated
 * DescribeInstances (no Filters, MaxResults, NextToken or InstanceIds) falls in the smaller one.
 *
 * @example
 * sandboxBucketClass('DescribeInstances', {}); // 'unfiltered-non-mutating'
 * sandboxBucketClass('RunInstances', {}); // 'mutating'
 */
export function sandboxBucketClass(action: string, input: Record<string, unknown> = {}): SandboxBucketClass {
  if (OWN_BUCKET.has(action)) return action as SandboxBucketClass;
  if (/^(Describe|Get|List|Search)/.test(action)) {
    const narrowed = ['Filters', 'MaxResults', 'NextToken', 'InstanceIds'].some((k) => {
      const v = input[k];
      return Array.isArray(v) ? v.length > 0 : v !== undefined;
    });
    return action === 'DescribeInstances' && !narrowed ? 'unfiltered-non-mutating' : 'non-mutating';
  }
  return 'mutating';
}
