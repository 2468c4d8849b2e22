// EC2 (EC2 Query protocol): operation table and the small operations.
import * as ec2 from '@aws-sdk/client-ec2';
import type {
  CreateTagsRequest,
  DeleteTagsRequest,
  DescribeInstancesRequest,
  DescribeRegionsRequest,
  ModifyInstanceMetadataOptionsRequest,
  Reservation,
} from '@aws-sdk/client-ec2';
import { AwsError } from '../errors.js';
import { EC2_XMLNS } from '../protocol/xml.js';
import type { Ctx } from '../runtime.js';
import type { Tags } from '../state.js';
import { applyFilters } from './ec2-filters.js';
import { instanceHandlers } from './ec2-instances.js';
import { checkUserTagKeys } from './ec2-tags.js';
import { findTemplate, templateHandlers } from './ec2-templates.js';
import type { QueryService } from './types.js';

function tagsOf(ctx: Ctx, id: string): Tags {
  if (id.startsWith('i-')) {
    const inst = ctx.rs.instances.get(id);
    if (!inst) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return inst.tags;
  }
  if (id.startsWith('lt-')) return findTemplate(ctx.rs, id).tags;
  throw new AwsError('InvalidID', `The ID '${id}' is not valid`);
}

const misc = {
  DescribeRegions(ctx: Ctx, input: DescribeRegionsRequest) {
    const all = ctx.rt.state.regionNames;
    for (const r of input.RegionNames ?? []) {
      if (!all.includes(r)) throw new AwsError('InvalidParameterValue', `Invalid region: ${r}`);
    }
    const names = input.RegionNames?.length ? input.RegionNames : all;
    const regions = names.map((RegionName) => ({
      RegionName,
      Endpoint: `ec2.${RegionName}.amazonaws.com`,
      OptInStatus: 'opt-in-not-required',
    }));
    return {
      Regions: applyFilters(
        regions,
        input.Filters,
        {
          'region-name': (r) => [r.RegionName],
          endpoint: (r) => [r.Endpoint],
          'opt-in-status': (r) => [r.OptInStatus],
        },
        () => ({}),
      ),
    };
  },

  CreateTags(ctx: Ctx, input: CreateTagsRequest) {
    checkUserTagKeys(input.Tags ?? []);
    const targets = (input.Resources ?? []).map((id) => tagsOf(ctx, id));
    for (const tags of targets) for (const t of input.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
    return {};
  },

  DeleteTags(ctx: Ctx, input: DeleteTagsRequest) {
    checkUserTagKeys(input.Tags ?? []);
    const targets = (input.Resources ?? []).map((id) => tagsOf(ctx, id));
    for (const tags of targets) {
      for (const t of input.Tags ?? []) if (t.Key && (t.Value === undefined || tags[t.Key] === t.Value)) delete tags[t.Key];
    }
    return {};
  },
};

// EC2's eventual consistency (the `invisible` fault), in front of the instance operations: a hidden
// instance answers NotFound to DescribeInstances by ID and to ModifyInstanceMetadataOptions, and is left
// out of listings. Like EC2, a Describe naming several missing IDs fails whole and names them all.
function hiddenIds(ctx: Ctx, ids: string[], count: boolean): Set<string> {
  const now = Date.now();
  return new Set(
    [...new Set(ids)].filter((id) => {
      const inst = ctx.rs.instances.get(id);
      return !!inst && ctx.rt.faults.invisible(id, inst.launchTime.getTime(), now, count);
    }),
  );
}

function notFoundUnlessVisible(ctx: Ctx, ids: string[]): void {
  const hidden = hiddenIds(ctx, ids, true);
  if (!hidden.size) return;
  ctx.rt.count('faults', ctx.op);
  const missing = [...new Set(ids)].filter((id) => hidden.has(id) || !ctx.rs.instances.has(id));
  throw new AwsError(
    'InvalidInstanceID.NotFound',
    missing.length === 1 ? `The instance ID '${missing[0]}' does not exist` : `The instance IDs '${missing.join(', ')}' do not exist`,
  );
}

const consistency = {
  DescribeInstances(ctx: Ctx, input: DescribeInstancesRequest) {
    if (!ctx.rt.faults.get().invisible) return instanceHandlers.DescribeInstances(ctx, input);
    if (input.InstanceIds?.length) notFoundUnlessVisible(ctx, input.InstanceIds);
    const out = instanceHandlers.DescribeInstances(ctx, input);
    if (input.InstanceIds?.length) return out;
    const hidden = hiddenIds(ctx, [...ctx.rs.instances.keys()], false);
    const Reservations = (out.Reservations ?? [])
      .map((r: Reservation) => ({ ...r, Instances: (r.Instances ?? []).filter((i) => !hidden.has(i.InstanceId!)) }))
      .filter((r) => r.Instances.length > 0);
    return { ...out, Reservations };
  },

  ModifyInstanceMetadataOptions(ctx: Ctx, input: ModifyInstanceMetadataOptionsRequest) {
    if (input.InstanceId && ctx.rt.faults.get().invisible) notFoundUnlessVisible(ctx, [input.InstanceId]);
    return instanceHandlers.ModifyInstanceMetadataOptions(ctx, input);
  },
};

export const ec2Service: QueryService = {
  service: 'ec2',
  protocol: 'ec2',
  xmlns: EC2_XMLNS,
  module: ec2 as unknown as Record<string, unknown>,
  handlers: { ...instanceHandlers, ...consistency, ...templateHandlers, ...misc },
  throttled: true,
  throttleError: { code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' },
  serverError: { code: 'InternalError', status: 500, message: 'An internal error has occurred' },
};
