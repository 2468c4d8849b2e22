// AuditRecord -> OCSF 1.6 Compliance Finding (class_uid 2003), one JSON object per record (JSON Lines for
// Security Lake and SIEMs). Pure: no SDK imports.
import type { AuditRecord } from '../../domain/audit.js';
import { partitionOf } from '../../domain/region.js';
import { findingId } from './asff.js';
import { CONTROL_ID, clusterArn, currentOptions, descriptionOf, PRODUCT_NAME, RELATED_CONTROLS } from './common.js';
import { recommendationOf, type SeverityLabel, severityLabel, titleOf, verdictOf, type WorkflowStatus } from './common.js';

export const OCSF_VERSION = '1.6.0';
const COMPLIANCE_FINDING = {
  class_uid: 2003,
  class_name: 'Compliance Finding',
  category_uid: 2,
  category_name: 'Findings',
} as const;

const SEVERITY: Record<SeverityLabel, { id: number; name: string }> = {
  INFORMATIONAL: { id: 1, name: 'Informational' },
  LOW: { id: 2, name: 'Low' },
  MEDIUM: { id: 3, name: 'Medium' },
  HIGH: { id: 4, name: 'High' },
  CRITICAL: { id: 5, name: 'Critical' },
};
// Finding lifecycle status: ASFF's NOTIFIED (the owner has been told and must act) is OCSF's In Progress.
const STATUS: Record<WorkflowStatus, { id: number; name: string }> = {
  NEW: { id: 1, name: 'New' },
  NOTIFIED: { id: 2, name: 'In Progress' },
  SUPPRESSED: { id: 3, name: 'Suppressed' },
  RESOLVED: { id: 4, name: 'Resolved' },
};
// compliance.status_id: 1 Pass, 2 Warning, 3 Fail; a check that could not be made (gone, out of scope) is 0 Unknown.
const COMPLIANCE = {
  PASSED: { id: 1, name: 'Pass' },
  WARNING: { id: 2, name: 'Warning' },
  FAILED: { id: 3, name: 'Fail' },
  NOT_AVAILABLE: { id: 0, name: 'Unknown' },
} as const;
const RESOURCE_TYPE: Record<AuditRecord['resource']['type'], string> = {
  instance: 'AWS::EC2::Instance',
  'launch-template': 'AWS::EC2::LaunchTemplate',
  nodegroup: 'AWS::EKS::Nodegroup',
  'account-defaults': 'AWS::EC2::InstanceMetadataDefaults',
};

export interface OcsfOptions {
  /** metadata.product.version: the imds-guard version that made the record. */
  productVersion?: string;
}

interface OcsfResource {
  uid: string;
  type: string;
  name?: string;
  region: string;
  cloud_partition: string;
  owner: { name: string };
  group?: { name: string; uid: string };
  data?: Record<string, unknown>;
}

export interface OcsfComplianceFinding {
  activity_id: 1;
  activity_name: 'Create';
  category_uid: 2;
  category_name: 'Findings';
  class_uid: 2003;
  class_name: 'Compliance Finding';
  type_uid: 200301;
  type_name: 'Compliance Finding: Create';
  time: number;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  message: string;
  metadata: { version: string; uid: string; product: { name: string; vendor_name: string; version?: string }; profiles: string[] };
  finding_info: { uid: string; title: string; desc: string; created_time: number; types: string[] };
  compliance: { control: string; standards: string[]; requirements: string[]; status: string; status_id: number; status_detail?: string };
  resources: OcsfResource[];
  cloud: { provider: 'AWS'; region: string; account: { uid: string; type: 'AWS Account'; type_id: 10 } };
  remediation: { desc: string };
}

function resourceOf(r: AuditRecord): OcsfResource {
  const res = r.resource;
  const options = currentOptions(r);
  return {
    uid: res.arn,
    type: RESOURCE_TYPE[res.type] ?? res.type,
    ...(res.name ? { name: res.name } : {}),
    region: res.region,
    cloud_partition: partitionOf(res.region),
    owner: { name: res.owner },
    ...(res.type === 'nodegroup' ? { group: { name: res.cluster ?? 'unknown', uid: clusterArn(r) } } : {}),
    ...(options ? { data: { metadata_options: options } } : {}),
  };
}

/**
 * One audit record as an OCSF Compliance Finding. Every record is a new evaluation (activity Create);
 * `finding_info.uid` is the stable ASFF finding id, so a consumer can follow one resource's finding over time.
 * @example
 * process.stdout.write(records.map((r) => JSON.stringify(toOcsf(r))).join('\n') + '\n');
 */
export function toOcsf(r: AuditRecord, opts: OcsfOptions = {}): OcsfComplianceFinding {
  const v = verdictOf(r.outcome);
  const sev = SEVERITY[severityLabel(r)];
  const status = STATUS[v.workflow];
  const compliance = COMPLIANCE[v.compliance];
  const control = RELATED_CONTROLS[r.resource.type];
  const time = Date.parse(r.time);
  const title = titleOf(r);
  return {
    activity_id: 1,
    activity_name: 'Create',
    ...COMPLIANCE_FINDING,
    type_uid: 200301,
    type_name: 'Compliance Finding: Create',
    time,
    severity_id: sev.id,
    severity: sev.name,
    status_id: status.id,
    status: status.name,
    message: title,
    metadata: {
      version: OCSF_VERSION,
      uid: r.id,
      product: { name: PRODUCT_NAME, vendor_name: PRODUCT_NAME, ...(opts.productVersion ? { version: opts.productVersion } : {}) },
      profiles: ['cloud'],
    },
    finding_info: { uid: findingId(r), title, desc: descriptionOf(r, 4096), created_time: time, types: [r.outcome] },
    compliance: {
      control: CONTROL_ID,
      standards: [PRODUCT_NAME, ...(control ? ['AWS Foundational Security Best Practices'] : [])],
      requirements: control ? [control] : [],
      status: compliance.name,
      status_id: compliance.id,
      ...(r.violations.length ? { status_detail: r.violations.join('; ') } : {}),
    },
    resources: [resourceOf(r)],
    cloud: { provider: 'AWS', region: r.resource.region, account: { uid: r.resource.account, type: 'AWS Account', type_id: 10 } },
    remediation: { desc: recommendationOf(r) },
  };
}
