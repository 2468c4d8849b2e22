// The sandbox sizes its EC2 buckets from its own table (sandbox/ec2-buckets.ts, from AWS's throttling page) and
// the product's limiter from lib/domain/ec2-limits.ts: the two were written apart, and this test says they agree.
import { describe, expect, it } from 'vitest';
import { classifyEc2, EC2_BUCKETS } from '../../lib/domain/ec2-limits.js';
import { SANDBOX_EC2_BUCKETS, sandboxBucketClass } from '../../sandbox/ec2-buckets.js';

describe('EC2 bucket tables: sandbox vs lib', () => {
  it('name the same bucket classes with the same capacity and refill', () => {
    expect(Object.keys(SANDBOX_EC2_BUCKETS).sort()).toEqual(Object.keys(EC2_BUCKETS).sort());
    for (const [cls, spec] of Object.entries(EC2_BUCKETS)) {
      const s = SANDBOX_EC2_BUCKETS[cls as keyof typeof SANDBOX_EC2_BUCKETS];
      expect({ cls, capacity: s.capacity, refill: s.refill }).toEqual({ cls, capacity: spec.capacity, refill: spec.refillPerSecond });
    }
  });

  it('classify every action the product calls the same way', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['ModifyInstanceMetadataOptions', {}],
      ['CreateLaunchTemplateVersion', {}],
      ['ModifyLaunchTemplate', {}],
      ['ModifyInstanceMetadataDefaults', {}],
      ['GetInstanceMetadataDefaults', {}],
      ['DescribeInstances', {}],
      ['DescribeInstances', { InstanceIds: [] }],
      ['DescribeInstances', { InstanceIds: ['i-1'] }],
      ['DescribeInstances', { Filters: [{ Name: 'tag-key', Values: ['x'] }] }],
      ['DescribeInstances', { MaxResults: 1000 }],
      ['DescribeInstances', { NextToken: 't' }],
      ['DescribeLaunchTemplates', {}],
      ['DescribeLaunchTemplateVersions', { LaunchTemplateId: 'lt-1' }],
      ['RunInstances', {}],
      ['CreateTags', {}],
      ['CreateFleet', {}],
    ];
    for (const [action, input] of cases) {
      expect(`${action} ${JSON.stringify(input)} -> ${sandboxBucketClass(action, input)}`).toBe(
        `${action} ${JSON.stringify(input)} -> ${classifyEc2(action, input)}`,
      );
    }
  });
});
