// CloudTrail (JSON 1.1), just enough for `imds-guard doctor` and its tests: trails with their home Region, logging
// state and event selectors. A multi-Region trail shows up in every Region as a shadow trail (by ARN only).
import type * as ct from '@aws-sdk/client-cloudtrail';
import { AwsError } from '../errors.js';
import { epoch, type Json11Service } from '../protocol/json11.js';
import type { Ctx } from '../runtime.js';
import type { RegionState } from '../state.js';

interface TrailRecord {
  name: string;
  arn: string;
  homeRegion: string;
  bucket: string;
  multiRegion: boolean;
  logging: boolean;
  startedAt?: Date;
  stoppedAt?: Date;
  selectors?: ct.EventSelector[];
  advanced?: ct.AdvancedEventSelector[];
}

// Keyed by the Region's state object, so a sandbox reset (new RegionState objects) forgets every trail.
const trailsByRegion = new WeakMap<RegionState, Map<string, TrailRecord>>();
function trails(rs: RegionState): Map<string, TrailRecord> {
  let m = trailsByRegion.get(rs);
  if (!m) {
    m = new Map();
    trailsByRegion.set(rs, m);
  }
  return m;
}

const notFound = (name: string, ctx: Ctx) =>
  new AwsError('TrailNotFoundException', `Unknown trail: ${name} for the user: ${ctx.rt.state.accountId}`);

/** Every trail visible from this Region: homed here, or (includeShadowTrails) multi-Region trails homed elsewhere. */
function visible(ctx: Ctx, shadows: boolean): TrailRecord[] {
  const here = [...trails(ctx.rs).values()];
  if (!shadows) return here;
  const others = ctx.rt.state
    .regions()
    .filter((rs) => rs !== ctx.rs)
    .flatMap((rs) => [...trails(rs).values()].filter((t) => t.multiRegion));
  return [...here, ...others];
}

/** A trail by name (homed here) or by ARN (any visible trail), as AWS resolves it. */
function find(ctx: Ctx, nameOrArn: string | undefined, homeOnly = false): TrailRecord {
  const key = nameOrArn ?? '';
  const t = key.startsWith('arn:') ? visible(ctx, true).find((x) => x.arn === key) : trails(ctx.rs).get(key);
  if (!t) throw notFound(key, ctx);
  if (homeOnly && t.homeRegion !== ctx.region) {
    throw new AwsError('InvalidHomeRegionException', `This operation must be called from the trail's home Region, ${t.homeRegion}.`);
  }
  return t;
}

const describe = (t: TrailRecord): ct.Trail => ({
  Name: t.name,
  S3BucketName: t.bucket,
  IncludeGlobalServiceEvents: true,
  IsMultiRegionTrail: t.multiRegion,
  HomeRegion: t.homeRegion,
  TrailARN: t.arn,
  LogFileValidationEnabled: false,
  HasCustomEventSelectors: !!(t.advanced || t.selectors),
  HasInsightSelectors: false,
  IsOrganizationTrail: false,
});

const DEFAULT_SELECTORS: ct.EventSelector[] = [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [] }];

export const cloudtrailService: Json11Service = {
  target: 'CloudTrail_20131101',
  namespace: 'com.amazonaws.cloudtrail.v20131101',
  throttle: () => new AwsError('ThrottlingException', 'Rate exceeded'),
  server: () => new AwsError('InternalFailure', 'An internal error occurred', 500),
  handlers: {
    CreateTrail(ctx, i: ct.CreateTrailRequest) {
      if (!i.Name || !i.S3BucketName) throw new AwsError('InvalidParameterException', 'Name and S3BucketName are required.');
      if (trails(ctx.rs).has(i.Name)) throw new AwsError('TrailAlreadyExistsException', `Trail ${i.Name} already exists.`);
      const t: TrailRecord = {
        name: i.Name,
        arn: `arn:aws:cloudtrail:${ctx.region}:${ctx.rt.state.accountId}:trail/${i.Name}`,
        homeRegion: ctx.region,
        bucket: i.S3BucketName,
        multiRegion: !!i.IsMultiRegionTrail,
        logging: false,
      };
      trails(ctx.rs).set(t.name, t);
      const { HasCustomEventSelectors: _h, HasInsightSelectors: _i, HomeRegion: _r, ...out } = describe(t);
      return out;
    },
    DescribeTrails(ctx, i: ct.DescribeTrailsRequest) {
      const all = visible(ctx, i.includeShadowTrails !== false);
      const names = i.trailNameList?.length ? new Set(i.trailNameList) : undefined;
      return { trailList: all.filter((t) => !names || names.has(t.name) || names.has(t.arn)).map(describe) };
    },
    GetTrailStatus(ctx, i: ct.GetTrailStatusRequest) {
      const t = find(ctx, i.Name);
      return {
        IsLogging: t.logging,
        ...(t.startedAt ? { StartLoggingTime: epoch(t.startedAt), TimeLoggingStarted: t.startedAt.toISOString() } : {}),
        ...(t.stoppedAt ? { StopLoggingTime: epoch(t.stoppedAt), TimeLoggingStopped: t.stoppedAt.toISOString() } : {}),
      };
    },
    StartLogging(ctx, i: ct.StartLoggingRequest) {
      const t = find(ctx, i.Name, true);
      t.logging = true;
      t.startedAt = new Date();
      return {};
    },
    StopLogging(ctx, i: ct.StopLoggingRequest) {
      const t = find(ctx, i.Name, true);
      t.logging = false;
      t.stoppedAt = new Date();
      return {};
    },
    GetEventSelectors(ctx, i: ct.GetEventSelectorsRequest) {
      const t = find(ctx, i.TrailName);
      return t.advanced
        ? { TrailARN: t.arn, AdvancedEventSelectors: t.advanced }
        : { TrailARN: t.arn, EventSelectors: t.selectors ?? DEFAULT_SELECTORS };
    },
    PutEventSelectors(ctx, i: ct.PutEventSelectorsRequest) {
      const t = find(ctx, i.TrailName, true);
      if (!i.EventSelectors === !i.AdvancedEventSelectors) {
        throw new AwsError('InvalidParameterCombinationException', 'Specify either EventSelectors or AdvancedEventSelectors, not both.');
      }
      t.selectors = i.EventSelectors;
      t.advanced = i.AdvancedEventSelectors;
      return { TrailARN: t.arn, ...(t.advanced ? { AdvancedEventSelectors: t.advanced } : { EventSelectors: t.selectors }) };
    },
  },
};
