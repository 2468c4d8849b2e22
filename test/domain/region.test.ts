// The core's Region rules, checked against the SDK's own partition table so they cannot drift apart.
import { partition } from '@aws-sdk/core/client';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { arn } from '../../lib/domain/audit.js';
import { isRegion, partitionOf, REGION_NAME } from '../../lib/domain/region.js';
import { SDK_PARTITIONS } from '../../lib/domain/partitions.js';

// The table behind partition(); the package does not export it, so it is read from its file.
const sdkCore = dirname(createRequire(import.meta.url).resolve('@aws-sdk/core/package.json'));
const { partitionsInfo } = (await import(
  pathToFileURL(join(sdkCore, 'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js')).href
)) as {
  partitionsInfo: { partitions: { id: string; regionRegex: string; regions: Record<string, unknown> }[] };
};
const regions = partitionsInfo.partitions.flatMap((p) => Object.keys(p.regions)).filter((r) => !r.endsWith('-global'));

describe('Region names and partitions', () => {
  it("knows every Region the SDK knows, with the SDK's partition", () => {
    expect(regions.length).toBeGreaterThan(30);
    expect(regions).toContain('eusc-de-east-1');
    for (const r of regions) {
      expect(REGION_NAME.test(r), r).toBe(true);
      expect(partitionOf(r), r).toBe(partition(r).name);
    }
  });

  it('rejects what is not a Region name', () => {
    for (const bad of ['', 'eu-west', 'EU-WEST-1', 'eu-west-1 ', 'eu_west_1', 'europe-west-1x', '../eu-west-1', 'eu-west-123'])
      expect(REGION_NAME.test(bad), bad).toBe(false);
  });

  it('audit ARNs carry the partition', () => {
    expect(arn('cn-north-1', 'ec2', '111122223333', 'instance/i-1')).toBe('arn:aws-cn:ec2:cn-north-1:111122223333:instance/i-1');
    expect(arn('us-gov-west-1', 'eks', '111122223333', 'nodegroup/c/ng')).toBe(
      'arn:aws-us-gov:eks:us-gov-west-1:111122223333:nodegroup/c/ng',
    );
    expect(arn('eu-west-1', 'ec2', '111122223333', 'launch-template/lt-1')).toBe('arn:aws:ec2:eu-west-1:111122223333:launch-template/lt-1');
  });

  it('rejects names no partition has: the check is the SDK partition table, not a loose pattern (issue 17)', () => {
    for (const bad of ['evil-attacker-1', 'xx-west-1', 'eusc-fr-east-1', 'cn-north-1x', 'eu-WEST-1'])
      expect([bad, REGION_NAME.test(bad), isRegion(bad)]).toEqual([bad, false, false]);
    for (const ok of ['eusc-de-east-1', 'eu-west-1', 'us-gov-west-1', 'eu-isoe-west-1', 'ap-southeast-9'])
      expect([ok, REGION_NAME.test(ok), isRegion(ok)]).toEqual([ok, true, true]);
  });

  it('the generated partition table is the SDK one (regenerate lib/domain/partitions.ts when the SDK adds one)', () => {
    const sdk = partitionsInfo.partitions.map((p) => ({
      id: p.id,
      regionRegex: p.regionRegex,
      regions: Object.keys(p.regions).filter((r) => !r.endsWith('-global')),
    }));
    expect(SDK_PARTITIONS).toEqual(sdk);
  });
});
