// Generated from @aws-sdk/core's partition table (util-endpoints partitions.json), without the *-global pseudo
// Regions. Kept as data (./partitions.json) so lib/domain stays free of the SDK; test/domain/region.test.ts
// fails when they differ.
import partitions from './partitions.json';

/** Each partition with the Region pattern the SDK resolves it by, and the Regions it lists. */
export const SDK_PARTITIONS: { id: string; regionRegex: string; regions: string[] }[] = partitions;
