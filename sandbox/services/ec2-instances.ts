// EC2 instances: launch (shared with EKS node groups), describe, metadata
// options, termination, and account-level metadata defaults.
import type {
  DescribeInstancesRequest,
  Instance,
  ModifyInstanceMetadataDefaultsRequest,
  ModifyInstanceMetadataOptionsRequest,
  Reservation,
  RunInstancesRequest,
  TerminateInstancesRequest,
} from '@aws-sdk/client-ec2';
import { AwsError, invalidParam } from '../errors.js';
import type { Ctx } from '../runtime.js';
import type { InstanceRecord, InstanceStateName, MetadataOptions, Tags } from '../state.js';
import { applyFilters, tagFields, type FieldGetter } from './ec2-filters.js';
import { checkUserTagKeys, tagList, tagsFromSpecs } from './ec2-tags.js';
import { findTemplate, resolveVersion } from './ec2-templates.js';
import { page } from './paging.js';

const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const notFound = (ids: string[]) =>
  new AwsError(
    'InvalidInstanceID.NotFound',
    ids.length === 1 ? `The instance ID '${ids[0]}' does not exist` : `The instance IDs '${ids.join(', ')}' do not exist`,
  );

/** Applies pending→running once the fault-injected pending period is over. */
function refresh(inst: InstanceRecord, now = Date.now()): InstanceRecord {
  if (inst.state === 'pending' && now >= inst.pendingUntil && inst.pendingAttempts <= 0) inst.state = 'running';
  return inst;
}

function checkTokens(v: unknown, field = 'HttpTokens'): void {
  if (v !== undefined && v !== 'optional' && v !== 'required') throw invalidParam(`The value '${String(v)}' for ${field} is invalid.`);
}
function checkHop(v: unknown): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 64)) {
    throw invalidParam(`The HttpPutResponseHopLimit '${String(v)}' is invalid. Specify a value between 1 and 64.`);
  }
}
function checkEnabled(v: unknown, field: string): void {
  if (v !== undefined && v !== 'enabled' && v !== 'disabled') throw invalidParam(`The value '${String(v)}' for ${field} is invalid.`);
}

export interface LaunchOptions {
  /** Tags set by AWS itself (Auto Scaling, EKS); bypasses the `aws:` reservation. */
  systemTags?: Tags;
  /** Internal launches (EKS) skip the caller's user-tag validation. */
  internal?: boolean;
}

/**
 * RunInstances semantics: launch template version → explicit parameters
 * (per field) → account defaults (ModifyInstanceMetadataDefaults) → AWS defaults.
 */
export function launchInstances(
  ctx: Ctx,
  req: RunInstancesRequest,
  opts: LaunchOptions = {},
): { reservationId: string; instances: InstanceRecord[] } {
  const { rs, rt } = ctx;
  const max = req.MaxCount ?? 1;
  const min = req.MinCount ?? max;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
    throw invalidParam(`Invalid value '${max}' for maxCount. Must be greater than or equal to minCount (${min}) and greater than 0.`);
  }
  if (max > 20000)
    throw new AwsError('InstanceLimitExceeded', `You have requested more instances (${max}) than your current instance limit allows.`);

  let data: Record<string, unknown> = {};
  let lt: { id: string; name: string; version: number } | undefined;
  if (req.LaunchTemplate) {
    const rec = findTemplate(rs, req.LaunchTemplate.LaunchTemplateId, req.LaunchTemplate.LaunchTemplateName);
    const v = resolveVersion(rec, req.LaunchTemplate.Version);
    data = v.data;
    lt = { id: rec.id, name: rec.name, version: v.number };
  }

  const imageId = req.ImageId ?? (data.ImageId as string | undefined);
  if (!imageId) throw new AwsError('MissingParameter', 'The request must contain the parameter ImageId');
  const instanceType = req.InstanceType ?? (data.InstanceType as string | undefined) ?? 'm1.small';

  const fromLt = (data.MetadataOptions ?? {}) as Partial<MetadataOptions>;
  const explicit = (req.MetadataOptions ?? {}) as Partial<MetadataOptions>;
  checkTokens(explicit.HttpTokens);
  checkHop(explicit.HttpPutResponseHopLimit);
  checkEnabled(explicit.HttpEndpoint, 'HttpEndpoint');
  const d = rs.metadataDefaults;
  const metadata: MetadataOptions = {
    HttpTokens: explicit.HttpTokens ?? fromLt.HttpTokens ?? d.HttpTokens ?? 'optional',
    HttpPutResponseHopLimit: explicit.HttpPutResponseHopLimit ?? fromLt.HttpPutResponseHopLimit ?? d.HttpPutResponseHopLimit ?? 1,
    HttpEndpoint: explicit.HttpEndpoint ?? fromLt.HttpEndpoint ?? d.HttpEndpoint ?? 'enabled',
    HttpProtocolIpv6: explicit.HttpProtocolIpv6 ?? fromLt.HttpProtocolIpv6 ?? 'disabled',
    InstanceMetadataTags: explicit.InstanceMetadataTags ?? fromLt.InstanceMetadataTags ?? d.InstanceMetadataTags ?? 'disabled',
  };
  if (d.HttpTokensEnforced === 'enabled' && metadata.HttpTokens !== 'required') {
    throw new AwsError(
      'UnsupportedOperation',
      'The instance cannot be launched because IMDSv2 enforcement is enabled for this account and Region and HttpTokens is not set to required.',
    );
  }

  for (const s of req.TagSpecifications ?? []) {
    const ok = ['instance', 'volume', 'network-interface', 'spot-instances-request', 'elastic-gpu'];
    if (!s.ResourceType || !ok.includes(s.ResourceType))
      throw invalidParam(`'${s.ResourceType}' is not a valid taggable resource type for this operation.`);
  }
  const userTags: Tags = {
    ...tagsFromSpecs(data.TagSpecifications as RunInstancesRequest['TagSpecifications'], 'instance'),
    ...tagsFromSpecs(req.TagSpecifications, 'instance'),
  };
  if (!opts.internal) checkUserTagKeys(tagList(userTags));
  const tags: Tags = { ...userTags, ...opts.systemTags };
  if (lt) {
    tags['aws:ec2launchtemplate:id'] = lt.id;
    tags['aws:ec2launchtemplate:version'] = String(lt.version);
  }

  const nic = (data.NetworkInterfaces as { SubnetId?: string }[] | undefined)?.[0];
  const subnetId = req.SubnetId ?? nic?.SubnetId;
  const pending = rt.faults.pending();
  const now = Date.now();
  const reservationId = `r-${rt.state.ids.hex(17)}`;
  const iam = (req.IamInstanceProfile ?? data.IamInstanceProfile) as { Arn?: string; Name?: string } | undefined;
  const instances: InstanceRecord[] = [];
  for (let i = 0; i < max; i++) {
    const subnet = subnetId
      ? (rs.subnets.find((s) => s.id === subnetId) ?? { id: subnetId, az: `${ctx.region}a` })
      : rs.subnets[Math.floor(rt.state.ids.next() * rs.subnets.length)]!;
    const inst: InstanceRecord = {
      id: `i-${rt.state.ids.hex(17)}`,
      reservationId,
      state: 'pending',
      launchTime: new Date(now),
      imageId,
      instanceType,
      subnetId: subnet.id,
      vpcId: rs.vpcId,
      availabilityZone: subnet.az,
      privateIp: `10.0.${Math.floor(rt.state.ids.next() * 256)}.${1 + Math.floor(rt.state.ids.next() * 254)}`,
      metadata: { ...metadata },
      metadataState: 'applied',
      tags: { ...tags },
      launchTemplate: lt,
      pendingUntil: now + pending.ms,
      pendingAttempts: pending.attempts,
      modifyCount: 0,
      iamInstanceProfileArn: iam?.Arn ?? (iam?.Name ? `arn:aws:iam::${rt.state.accountId}:instance-profile/${iam.Name}` : undefined),
      keyName: req.KeyName ?? (data.KeyName as string | undefined),
      clientToken: req.ClientToken,
    };
    rs.instances.set(inst.id, inst);
    instances.push(inst);
  }
  return { reservationId, instances };
}

function instanceShape(inst: InstanceRecord, opts: { launching?: boolean } = {}): Instance {
  const state = opts.launching ? 'pending' : inst.state;
  const ip = inst.privateIp;
  return {
    InstanceId: inst.id,
    ImageId: inst.imageId,
    State: { Code: STATE_CODES[state], Name: state },
    PrivateDnsName:
      inst.state === 'terminated' ? '' : `ip-${ip.replace(/\./g, '-')}.${inst.availabilityZone.slice(0, -1)}.compute.internal`,
    PublicDnsName: '',
    StateTransitionReason: inst.stateReason ? inst.stateReason.Message : '',
    StateReason: inst.stateReason,
    KeyName: inst.keyName,
    AmiLaunchIndex: 0,
    InstanceType: inst.instanceType as Instance['InstanceType'],
    LaunchTime: inst.launchTime,
    Placement: { AvailabilityZone: inst.availabilityZone, GroupName: '', Tenancy: 'default' },
    Monitoring: { State: 'disabled' },
    SubnetId: inst.state === 'terminated' ? undefined : inst.subnetId,
    VpcId: inst.state === 'terminated' ? undefined : inst.vpcId,
    PrivateIpAddress: inst.state === 'terminated' ? undefined : ip,
    Architecture: 'x86_64',
    RootDeviceType: 'ebs',
    RootDeviceName: '/dev/xvda',
    Hypervisor: 'xen',
    VirtualizationType: 'hvm',
    EbsOptimized: false,
    EnaSupport: true,
    SourceDestCheck: true,
    ClientToken: inst.clientToken ?? '',
    IamInstanceProfile: inst.iamInstanceProfileArn
      ? { Arn: inst.iamInstanceProfileArn, Id: `AIPA${inst.id.slice(2, 19).toUpperCase()}` }
      : undefined,
    Tags: Object.keys(inst.tags).length ? tagList(inst.tags) : undefined,
    MetadataOptions: { State: opts.launching ? 'pending' : inst.metadataState, ...inst.metadata } as Instance['MetadataOptions'],
    CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
    HibernationOptions: { Configured: false },
    EnclaveOptions: { Enabled: false },
    BootMode: 'uefi-preferred',
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    MaintenanceOptions: { AutoRecovery: 'default' },
    CurrentInstanceBootMode: 'legacy-bios',
  };
}

const ID_RE = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

const instanceFields: Record<string, FieldGetter<InstanceRecord>> = {
  ...tagFields((i) => i.tags),
  'instance-id': (i) => [i.id],
  'instance-state-name': (i) => [i.state],
  'instance-state-code': (i) => [STATE_CODES[i.state]],
  'instance-type': (i) => [i.instanceType],
  'image-id': (i) => [i.imageId],
  'vpc-id': (i) => [i.vpcId],
  'subnet-id': (i) => [i.subnetId],
  'availability-zone': (i) => [i.availabilityZone],
  'private-ip-address': (i) => [i.privateIp],
  'reservation-id': (i) => [i.reservationId],
  'key-name': (i) => [i.keyName],
  'iam-instance-profile.arn': (i) => [i.iamInstanceProfileArn],
  'metadata-options.http-tokens': (i) => [i.metadata.HttpTokens],
  'metadata-options.http-put-response-hop-limit': (i) => [i.metadata.HttpPutResponseHopLimit],
  'metadata-options.http-endpoint': (i) => [i.metadata.HttpEndpoint],
  'metadata-options.http-protocol-ipv6': (i) => [i.metadata.HttpProtocolIpv6],
  'metadata-options.instance-metadata-tags': (i) => [i.metadata.InstanceMetadataTags],
};

function groupReservations(ctx: Ctx, items: InstanceRecord[]): Reservation[] {
  const out: Reservation[] = [];
  for (const inst of items) {
    const last = out[out.length - 1];
    const shape = instanceShape(inst);
    if (last && last.ReservationId === inst.reservationId) last.Instances!.push(shape);
    else out.push({ ReservationId: inst.reservationId, OwnerId: ctx.rt.state.accountId, Groups: [], Instances: [shape] });
  }
  return out;
}

export const instanceHandlers = {
  RunInstances(ctx: Ctx, input: RunInstancesRequest): Reservation {
    const { reservationId, instances } = launchInstances(ctx, input);
    return {
      ReservationId: reservationId,
      OwnerId: ctx.rt.state.accountId,
      Groups: [],
      Instances: instances.map((i) => instanceShape(i, { launching: true })),
    };
  },

  DescribeInstances(ctx: Ctx, input: DescribeInstancesRequest) {
    const ids = input.InstanceIds ?? [];
    if (ids.length && input.MaxResults !== undefined) {
      throw new AwsError('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
    }
    if (ids.length > 1000) throw invalidParam('The maximum number of instance IDs that can be specified is 1000.');
    if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 1000)) {
      throw invalidParam(`Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Parameter must be between 5 and 1000.`);
    }
    const now = Date.now();
    let items: InstanceRecord[];
    if (ids.length) {
      const bad = ids.find((id) => !ID_RE.test(id));
      if (bad) throw new AwsError('InvalidInstanceID.Malformed', `Invalid id: "${bad}"`);
      const missing = ids.filter((id) => !ctx.rs.instances.has(id));
      if (missing.length) throw notFound(missing);
      items = [...new Set(ids)].map((id) => ctx.rs.instances.get(id)!);
    } else {
      items = [...ctx.rs.instances.values()];
    }
    for (const i of items) {
      refresh(i, now);
      // Reads see the change as applied (AWS: pending → applied shortly after).
      if (i.metadataState === 'pending') i.metadataState = 'applied';
    }
    items = applyFilters(items, input.Filters, instanceFields, (i) => i.tags);
    const p = page(
      items,
      input.MaxResults,
      input.NextToken,
      'DescribeInstances',
      () => new AwsError('InvalidPaginationToken', 'The specified pagination token is not valid or is expired.'),
    );
    return { Reservations: groupReservations(ctx, p.items), NextToken: p.next };
  },

  ModifyInstanceMetadataOptions(ctx: Ctx, input: ModifyInstanceMetadataOptionsRequest) {
    const id = input.InstanceId;
    if (!id) throw new AwsError('MissingParameter', 'The request must contain the parameter InstanceId');
    if (!ID_RE.test(id)) throw new AwsError('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
    const inst = ctx.rs.instances.get(id);
    if (inst && inst.state !== 'terminated' && ctx.rt.faults.vanishes(id)) {
      inst.state = 'terminated';
      inst.stateReason = {
        Code: 'Client.UserInitiatedShutdown',
        Message: 'Client.UserInitiatedShutdown: User initiated shutdown (sandbox fault: vanished)',
      };
      ctx.rt.count('faults', ctx.op);
    }
    if (!inst || inst.state === 'terminated') throw notFound([id]);
    refresh(inst);
    if (inst.state === 'pending') {
      if (inst.pendingAttempts > 0) inst.pendingAttempts--;
      ctx.rt.count('faults', ctx.op);
      throw new AwsError('IncorrectInstanceState', `The instance '${id}' is not in a state from which it can be modified.`);
    }
    checkTokens(input.HttpTokens);
    checkHop(input.HttpPutResponseHopLimit);
    checkEnabled(input.HttpEndpoint, 'HttpEndpoint');
    checkEnabled(input.HttpProtocolIpv6, 'HttpProtocolIpv6');
    checkEnabled(input.InstanceMetadataTags, 'InstanceMetadataTags');
    const m = inst.metadata;
    // The real API's trap: an omitted HttpTokens means `optional`; the other fields keep their state.
    m.HttpTokens = input.HttpTokens ?? 'optional';
    if (input.HttpPutResponseHopLimit !== undefined) m.HttpPutResponseHopLimit = input.HttpPutResponseHopLimit;
    if (input.HttpEndpoint !== undefined) m.HttpEndpoint = input.HttpEndpoint;
    if (input.HttpProtocolIpv6 !== undefined) m.HttpProtocolIpv6 = input.HttpProtocolIpv6;
    if (input.InstanceMetadataTags !== undefined) m.InstanceMetadataTags = input.InstanceMetadataTags;
    inst.metadataState = 'pending';
    inst.modifyCount++;
    return { InstanceId: id, InstanceMetadataOptions: { State: 'pending', ...m } };
  },

  TerminateInstances(ctx: Ctx, input: TerminateInstancesRequest) {
    const ids = input.InstanceIds ?? [];
    if (!ids.length) throw new AwsError('MissingParameter', 'The request must contain the parameter InstanceId');
    const missing = ids.filter((id) => !ctx.rs.instances.has(id));
    if (missing.length) throw notFound(missing);
    return {
      TerminatingInstances: ids.map((id) => {
        const inst = refresh(ctx.rs.instances.get(id)!);
        const prev = inst.state;
        terminate(inst);
        const cur: InstanceStateName = prev === 'terminated' ? 'terminated' : 'shutting-down';
        return {
          InstanceId: id,
          CurrentState: { Code: STATE_CODES[cur], Name: cur },
          PreviousState: { Code: STATE_CODES[prev], Name: prev },
        };
      }),
    };
  },

  GetInstanceMetadataDefaults(ctx: Ctx) {
    return { AccountLevel: { ...ctx.rs.metadataDefaults, ManagedBy: 'account' } };
  },

  ModifyInstanceMetadataDefaults(ctx: Ctx, input: ModifyInstanceMetadataDefaultsRequest) {
    const d = { ...ctx.rs.metadataDefaults };
    const np = (v: unknown) => v === 'no-preference';
    const set = <K extends keyof typeof d>(k: K, v: (typeof d)[K] | undefined, clear: boolean, ok: unknown[]) => {
      if (v === undefined) return;
      if (clear) delete d[k];
      else if (ok.includes(v)) d[k] = v;
      else throw invalidParam(`The value '${String(v)}' for ${k} is invalid.`);
    };
    set('HttpTokens', input.HttpTokens, np(input.HttpTokens), ['optional', 'required']);
    set('HttpEndpoint', input.HttpEndpoint, np(input.HttpEndpoint), ['enabled', 'disabled']);
    set('InstanceMetadataTags', input.InstanceMetadataTags, np(input.InstanceMetadataTags), ['enabled', 'disabled']);
    set('HttpTokensEnforced', input.HttpTokensEnforced, np(input.HttpTokensEnforced), ['enabled', 'disabled']);
    const hop = input.HttpPutResponseHopLimit;
    if (hop !== undefined) {
      if (hop === -1) delete d.HttpPutResponseHopLimit;
      else {
        checkHop(hop);
        d.HttpPutResponseHopLimit = hop;
      }
    }
    ctx.rs.metadataDefaults = d;
    return { Return: true };
  },
};

export function terminate(inst: InstanceRecord): void {
  if (inst.state === 'terminated') return;
  inst.state = 'terminated';
  inst.stateReason = { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
}
