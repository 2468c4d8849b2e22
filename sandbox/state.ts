// In-memory model of one account (sandbox/accounts.ts holds several). Each Region is independent (as in AWS);
// IAM is global. Records hold what the services need; wire shapes are built
// by the services from these.
import { Rng } from './rng.js';

export type Tags = Record<string, string>;
export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

export interface MetadataOptions {
  HttpTokens: string; // 'optional' | 'required'
  HttpPutResponseHopLimit: number;
  HttpEndpoint: string; // 'enabled' | 'disabled'
  HttpProtocolIpv6: string;
  InstanceMetadataTags: string;
}

export interface LtRef {
  id: string;
  name: string;
  version: string;
}

export interface InstanceRecord {
  id: string;
  reservationId: string;
  state: InstanceStateName;
  launchTime: Date;
  imageId: string;
  instanceType: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  privateIp: string;
  metadata: MetadataOptions;
  /** `pending` right after ModifyInstanceMetadataOptions; `applied` from the next read on. */
  metadataState: 'pending' | 'applied';
  tags: Tags;
  launchTemplate?: { id: string; name: string; version: number };
  /** Fault injection: stays `pending` until this time (ms since epoch)... */
  pendingUntil: number;
  /** ...and until this many ModifyInstanceMetadataOptions calls have failed with IncorrectInstanceState. */
  pendingAttempts: number;
  /** Successful ModifyInstanceMetadataOptions calls, for assertions. */
  modifyCount: number;
  iamInstanceProfileArn?: string;
  keyName?: string;
  clientToken?: string;
  stateReason?: { Code: string; Message: string };
}

export interface LaunchTemplateVersionRecord {
  number: number;
  description?: string;
  createTime: Date;
  createdBy: string;
  /** SDK `RequestLaunchTemplateData` shape, stored as sent. */
  data: Record<string, unknown>;
}

export interface LaunchTemplateRecord {
  id: string;
  name: string;
  createTime: Date;
  createdBy: string;
  defaultVersion: number;
  /** Highest existing version (drops when the latest is deleted). */
  latestVersion: number;
  /** Highest number ever given: deleted versions' numbers are not reused. Unset = latestVersion. */
  lastNumber?: number;
  tags: Tags;
  versions: Map<number, LaunchTemplateVersionRecord>;
}

export interface NodegroupRecord {
  name: string;
  arn: string;
  clusterName: string;
  createdAt: Date;
  modifiedAt: Date;
  status: string;
  version: string;
  releaseVersion: string;
  capacityType: string;
  amiType?: string;
  diskSize?: number;
  instanceTypes?: string[];
  scalingConfig: { minSize: number; maxSize: number; desiredSize: number };
  subnets: string[];
  nodeRole: string;
  labels: Record<string, string>;
  taints: unknown[];
  tags: Tags;
  asgName: string;
  /** Custom launch template (exposed as `nodegroup.launchTemplate`, as EKS does). */
  launchTemplate?: LtRef;
  /** EKS-created `eks-<uuid>` template when no custom one was given. Not exposed by
   * DescribeNodegroup (as in AWS); instances carry it as `aws:ec2launchtemplate:id`. */
  eksLaunchTemplate?: LtRef;
  healthIssues: { code: string; message: string; resourceIds?: string[] }[];
}

export interface UpdateRecord {
  id: string;
  status: string;
  type: string;
  params: { type: string; value: string }[];
  createdAt: Date;
  nodegroupName?: string;
}

interface AddonRecord {
  name: string;
  version: string;
  arn: string;
  status: string;
  createdAt: Date;
  modifiedAt: Date;
  serviceAccountRoleArn?: string;
  tags: Tags;
}

interface PodIdentityAssociationRecord {
  id: string;
  arn: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  createdAt: Date;
  modifiedAt: Date;
  tags: Tags;
}

export interface ClusterRecord {
  name: string;
  arn: string;
  createdAt: Date;
  status: string;
  version: string;
  roleArn: string;
  endpoint: string;
  oidcIssuer: string;
  clusterSecurityGroupId: string;
  resourcesVpcConfig: Record<string, unknown>;
  tags: Tags;
  nodegroups: Map<string, NodegroupRecord>;
  addons: Map<string, AddonRecord>;
  podIdentityAssociations: Map<string, PodIdentityAssociationRecord>;
  updates: Map<string, UpdateRecord>;
}

export interface SubscriptionRecord {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  attributes: Record<string, string>;
}

export interface TopicRecord {
  arn: string;
  name: string;
  attributes: Record<string, string>;
  tags: Tags;
  subscriptions: SubscriptionRecord[];
}

/** Account-level `ModifyInstanceMetadataDefaults` values; unset = no preference. */
export interface MetadataDefaults {
  HttpTokens?: string;
  HttpPutResponseHopLimit?: number;
  HttpEndpoint?: string;
  InstanceMetadataTags?: string;
  HttpTokensEnforced?: string;
}

export interface CapturedMessage {
  messageId: string;
  region: string;
  topicArn: string;
  subject?: string;
  /** The raw `Message` parameter. */
  message: string;
  messageStructure?: string;
  /** Body per protocol: `{default}` for plain messages, every key for `MessageStructure=json`. */
  bodies: Record<string, string>;
  /** String view of every message attribute (Binary as base64). */
  attributes: Record<string, string>;
  attributeTypes: Record<string, string>;
  /** Subscriptions whose FilterPolicy (MessageAttributes scope) matched. */
  deliveredTo: string[];
  time: string;
}

export interface OidcProviderRecord {
  arn: string;
  url: string;
  clientIds: string[];
  thumbprints: string[];
  createDate: Date;
  tags: Tags;
}

/** An EventBridge Scheduler schedule, stored as CreateSchedule/UpdateSchedule sent it. */
export interface ScheduleRecord {
  arn: string;
  name: string;
  groupName: string;
  createdAt: Date;
  modifiedAt: Date;
  /** The request's members other than Name, GroupName and ClientToken (SDK `CreateScheduleInput` shape). */
  spec: Record<string, unknown>;
}

export class RegionState {
  /** Scheduler schedules by `<group>/<name>`. */
  readonly schedules = new Map<string, ScheduleRecord>();
  readonly instances = new Map<string, InstanceRecord>();
  readonly launchTemplates = new Map<string, LaunchTemplateRecord>();
  readonly clusters = new Map<string, ClusterRecord>();
  readonly topics = new Map<string, TopicRecord>();
  metadataDefaults: MetadataDefaults = {};
  readonly vpcId: string;
  readonly subnets: { id: string; az: string }[];

  constructor(
    readonly name: string,
    ids: Rng,
  ) {
    this.vpcId = `vpc-${ids.hex(17)}`;
    this.subnets = ['a', 'b', 'c'].map((z) => ({ id: `subnet-${ids.hex(17)}`, az: `${name}${z}` }));
  }

  launchTemplateByName(name: string): LaunchTemplateRecord | undefined {
    for (const lt of this.launchTemplates.values()) if (lt.name === name) return lt;
    return undefined;
  }
}

export interface SandboxConfig {
  /** Status of new clusters / node groups (`CREATING` lets tests see the transition). */
  clusterStatus: string;
  nodegroupStatus: string;
  /** UpdateNodegroupVersion terminates the old nodes and launches new ones from the new version. */
  rollNodesOnUpdate: boolean;
}

/** An IAM role (multi-account: AssumeRole targets). */
export interface RoleRecord {
  name: string;
  arn: string;
  roleId: string;
  /** JSON trust policy; unset trusts any principal. */
  trustPolicy?: string;
  createDate: Date;
}

export class SandboxState {
  private readonly byRegion = new Map<string, RegionState>();
  readonly oidcProviders = new Map<string, OidcProviderRecord>();
  /** IAM roles by name (IAM is global to the account). */
  readonly roles = new Map<string, RoleRecord>();
  readonly messages: CapturedMessage[] = [];
  ids: Rng;

  constructor(
    readonly accountId: string,
    readonly regionNames: string[],
    readonly callerArn: string,
    readonly config: SandboxConfig,
    private readonly seed: number,
  ) {
    this.ids = new Rng(seed);
  }

  /** State of one Region, created on first use. */
  region(name: string): RegionState {
    let r = this.byRegion.get(name);
    if (!r) {
      r = new RegionState(name, this.ids);
      this.byRegion.set(name, r);
    }
    return r;
  }

  regions(): RegionState[] {
    return [...this.byRegion.values()];
  }

  reset(): void {
    this.byRegion.clear();
    this.oidcProviders.clear();
    this.roles.clear();
    this.messages.length = 0;
    this.ids = new Rng(this.seed);
  }
}
