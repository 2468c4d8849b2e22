// AuditRecord -> AWS Security Finding Format (ASFF), for BatchImportFindings as a custom integration.
// Pure: no SDK imports; the types below are the subset of AwsSecurityFinding imds-guard fills.
import type { AuditRecord } from '../../domain/audit.js';
import type { MetadataOptions } from '../../domain/policy.js';
import { partitionOf } from '../../domain/region.js';
import { CONTROL_ID, clip, type ComplianceStatus, clusterArn, currentOptions, descriptionOf } from './common.js';
import { PRODUCT_NAME, RELATED_CONTROLS, recommendationOf, resourceKey, type SeverityLabel } from './common.js';
import { severityLabel, titleOf, verdictOf, type WorkflowStatus } from './common.js';

const ASFF_SCHEMA_VERSION = '2018-10-08';
export const ASFF_TYPE = 'Software and Configuration Checks/AWS Security Best Practices';
/** BatchImportFindings and BatchUpdateFindings take at most this many findings per call. */
const ASFF_BATCH_LIMIT = 100;

interface AsffMetadataOptions {
  HttpTokens?: string;
  HttpPutResponseHopLimit?: number;
  HttpEndpoint?: string;
  InstanceMetadataTags?: string;
  HttpProtocolIpv6?: string;
}

export interface AsffResource {
  Type: 'AwsEc2Instance' | 'AwsEc2LaunchTemplate' | 'AwsEksCluster' | 'AwsAccount' | 'Other';
  Id: string;
  Partition: string;
  Region: string;
  Details?: {
    AwsEc2Instance?: { MetadataOptions?: AsffMetadataOptions };
    AwsEc2LaunchTemplate?: { Id: string; LaunchTemplateName?: string; LaunchTemplateData?: { MetadataOptions?: AsffMetadataOptions } };
    AwsEksCluster?: { Name: string; Arn: string };
    Other?: Record<string, string>;
  };
}

export interface AsffFinding {
  SchemaVersion: typeof ASFF_SCHEMA_VERSION;
  Id: string;
  ProductArn: string;
  ProductName: string;
  CompanyName: string;
  GeneratorId: string;
  AwsAccountId: string;
  Region: string;
  Types: string[];
  FirstObservedAt?: string;
  LastObservedAt: string;
  CreatedAt: string;
  UpdatedAt: string;
  Severity: { Label: SeverityLabel; Original: string };
  Title: string;
  Description: string;
  Remediation: { Recommendation: { Text: string } };
  ProductFields: Record<string, string>;
  Resources: AsffResource[];
  Compliance: { Status: ComplianceStatus; RelatedRequirements?: string[] };
  Workflow: { Status: WorkflowStatus };
  RecordState: 'ACTIVE' | 'ARCHIVED';
  FindingProviderFields: { Severity: { Label: SeverityLabel; Original: string }; Types: string[] };
}

export interface AsffOptions {
  /** When the finding was first created, if the caller knows (a stored finding); default: the record's time. */
  createdAt?: string;
  /** When the issue was first seen; left out when unknown. */
  firstObservedAt?: string;
  /** UpdatedAt; default: the record's time. */
  updatedAt?: string;
}

/** `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`: an account's own custom integration. */
export function productArn(region: string, account: string): string {
  return `arn:${partitionOf(region)}:securityhub:${region}:${account}:product/${account}/default`;
}

/**
 * Stable per resource and control, never per record: a later record for the same resource updates the same finding.
 * A launch template has one finding however many of its versions a run fixed.
 * @example
 * findingId(record) // 'imds-guard/eu-west-1/111122223333/instance/i-0abc/imdsv2-hop-limit'
 */
export function findingId(r: AuditRecord): string {
  return `${PRODUCT_NAME}/${r.resource.region}/${r.resource.account}/${resourceKey(r)}/${CONTROL_ID}`;
}

function metadataOptions(o: MetadataOptions | undefined): AsffMetadataOptions | undefined {
  if (!o) return undefined;
  const m: AsffMetadataOptions = {};
  if (o.httpTokens) m.HttpTokens = o.httpTokens;
  if (o.hopLimit !== undefined) m.HttpPutResponseHopLimit = o.hopLimit;
  if (o.httpEndpoint) m.HttpEndpoint = o.httpEndpoint;
  if (o.instanceMetadataTags) m.InstanceMetadataTags = o.instanceMetadataTags;
  if (o.httpProtocolIpv6) m.HttpProtocolIpv6 = o.httpProtocolIpv6;
  return Object.keys(m).length ? m : undefined;
}

function otherOf(o: AsffMetadataOptions | undefined, extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...extra };
  for (const [k, v] of Object.entries(o ?? {})) out[k] = String(v);
  return out;
}

/** The resource as ASFF knows it: node groups appear as their cluster, account defaults as the account. */
export function asffResource(r: AuditRecord): AsffResource {
  const res = r.resource;
  const base = { Partition: partitionOf(res.region), Region: res.region };
  const mo = metadataOptions(currentOptions(r));
  switch (res.type) {
    case 'instance':
      return { Type: 'AwsEc2Instance', Id: res.arn, ...base, ...(mo ? { Details: { AwsEc2Instance: { MetadataOptions: mo } } } : {}) };
    case 'launch-template': {
      const lt = {
        Id: res.id,
        ...(res.name ? { LaunchTemplateName: res.name } : {}),
        ...(mo ? { LaunchTemplateData: { MetadataOptions: mo } } : {}),
      };
      return { Type: 'AwsEc2LaunchTemplate', Id: res.arn, ...base, Details: { AwsEc2LaunchTemplate: lt } };
    }
    case 'nodegroup': {
      const arn = clusterArn(r);
      const other = otherOf(mo, { NodegroupName: res.id, NodegroupArn: res.arn });
      return {
        Type: 'AwsEksCluster',
        Id: arn,
        ...base,
        Details: { AwsEksCluster: { Name: res.cluster ?? 'unknown', Arn: arn }, Other: other },
      };
    }
    case 'account-defaults':
      return { Type: 'AwsAccount', Id: `AWS::::Account:${res.account}`, ...base, Details: { Other: otherOf(mo, { Arn: res.arn }) } };
    default:
      // A kind this mapping does not know yet: ASFF's generic resource type, still keyed on its ARN.
      return { Type: 'Other', Id: res.arn, ...base, Details: { Other: otherOf(mo, { Kind: res.type, Id: res.id }) } };
  }
}

function productFields(r: AuditRecord): Record<string, string> {
  const f: Record<string, string> = {
    'imds-guard/outcome': r.outcome,
    'imds-guard/mode': r.mode,
    'imds-guard/record-id': r.id.slice(0, 2048),
    'imds-guard/owner': r.resource.owner.slice(0, 2048),
    'imds-guard/trigger': `${r.trigger.source}:${r.trigger.eventName}`.slice(0, 2048),
  };
  if (r.violations.length) f['imds-guard/violations'] = r.violations.join('; ').slice(0, 2048);
  if (r.reason) f['imds-guard/reason'] = r.reason.slice(0, 2048);
  return f;
}

/**
 * One audit record as an ASFF finding of the account's custom integration.
 *
 * Compliance.Status and Workflow.Status follow `verdictOf` (common.ts). Security Hub takes Workflow from
 * BatchImportFindings only when it creates a finding: to move an existing finding to RESOLVED or NOTIFIED,
 * follow the import with BatchUpdateFindings (`Workflow.Status` as here). Severity and Types are also sent as
 * FindingProviderFields, the only way a provider may change them on an existing finding.
 * @example
 * const finding = toAsff(record, { updatedAt: new Date().toISOString() });
 * await securityHub.send(new BatchImportFindingsCommand({ Findings: [finding] }));
 */
export function toAsff(r: AuditRecord, opts: AsffOptions = {}): AsffFinding {
  const v = verdictOf(r.outcome);
  const severity = { Label: severityLabel(r), Original: r.severity };
  const control = RELATED_CONTROLS[r.resource.type];
  const updatedAt = opts.updatedAt ?? r.time;
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: findingId(r),
    ProductArn: productArn(r.resource.region, r.resource.account),
    ProductName: PRODUCT_NAME,
    CompanyName: PRODUCT_NAME,
    GeneratorId: `${PRODUCT_NAME}/${CONTROL_ID}`,
    AwsAccountId: r.resource.account,
    Region: r.resource.region,
    Types: [ASFF_TYPE],
    ...(opts.firstObservedAt ? { FirstObservedAt: opts.firstObservedAt } : {}),
    LastObservedAt: r.time,
    CreatedAt: opts.createdAt ?? r.time,
    UpdatedAt: updatedAt,
    Severity: severity,
    Title: titleOf(r),
    Description: descriptionOf(r, 1024),
    Remediation: { Recommendation: { Text: clip(recommendationOf(r), 512) } },
    ProductFields: productFields(r),
    Resources: [asffResource(r)],
    Compliance: {
      Status: v.compliance,
      ...(control ? { RelatedRequirements: [`AWS Foundational Security Best Practices ${control}`] } : {}),
    },
    Workflow: { Status: v.workflow },
    RecordState: v.recordState,
    FindingProviderFields: { Severity: severity, Types: [ASFF_TYPE] },
  };
}

/**
 * Split into calls of at most `size` (BatchImportFindings' limit is 100).
 * @example
 * for (const Findings of batches(findings)) await client.send(new BatchImportFindingsCommand({ Findings }));
 */
export function batches<T>(items: readonly T[], size = ASFF_BATCH_LIMIT): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
