import { describe, expect, it } from 'vitest';
import { findingId } from '../../../lib/report/findings/asff.js';
import { OCSF_VERSION, toOcsf } from '../../../lib/report/findings/ocsf.js';
import { ACCOUNT, OUTCOMES, REGION, record, TIME, TYPES } from './records.js';

// Required by OCSF 1.x for Compliance Finding: the base event's classification and occurrence attributes,
// metadata (product, version), finding_info (uid) and compliance (standards); cloud (provider) from the cloud profile.
const REQUIRED = ['activity_id', 'category_uid', 'class_uid', 'type_uid', 'severity_id', 'time', 'metadata', 'finding_info', 'compliance'];

const EXPECTED: Record<string, { status: [number, string]; compliance: [number, string]; severity: [number, string] }> = {
  remediated: { status: [4, 'Resolved'], compliance: [1, 'Pass'], severity: [1, 'Informational'] },
  compliant: { status: [4, 'Resolved'], compliance: [1, 'Pass'], severity: [1, 'Informational'] },
  'would-remediate': { status: [1, 'New'], compliance: [3, 'Fail'], severity: [3, 'Medium'] },
  failed: { status: [1, 'New'], compliance: [3, 'Fail'], severity: [4, 'High'] },
  reverted: { status: [1, 'New'], compliance: [3, 'Fail'], severity: [4, 'High'] },
  reported: { status: [2, 'In Progress'], compliance: [3, 'Fail'], severity: [3, 'Medium'] },
  exempt: { status: [2, 'In Progress'], compliance: [2, 'Warning'], severity: [2, 'Low'] },
  gone: { status: [4, 'Resolved'], compliance: [0, 'Unknown'], severity: [1, 'Informational'] },
  'out-of-scope': { status: [3, 'Suppressed'], compliance: [0, 'Unknown'], severity: [1, 'Informational'] },
};
const RESOURCE_TYPE = {
  instance: 'AWS::EC2::Instance',
  'launch-template': 'AWS::EC2::LaunchTemplate',
  nodegroup: 'AWS::EKS::Nodegroup',
  'account-defaults': 'AWS::EC2::InstanceMetadataDefaults',
};

describe('toOcsf: Compliance Finding fields, for every resource type and outcome', () => {
  for (const type of TYPES) {
    for (const outcome of OUTCOMES) {
      it(`${type} ${outcome}`, () => {
        const r = record(type, outcome);
        const f = toOcsf(r, { productVersion: '0.1.0' }) as unknown as Record<string, any>;
        const e = EXPECTED[outcome]!;
        for (const k of REQUIRED) expect(f[k], k).toBeDefined();
        expect([f.class_uid, f.class_name, f.category_uid, f.category_name]).toEqual([2003, 'Compliance Finding', 2, 'Findings']);
        expect([f.activity_id, f.activity_name, f.type_uid, f.type_name]).toEqual([1, 'Create', 200301, 'Compliance Finding: Create']);
        expect(f.type_uid).toBe(f.class_uid * 100 + f.activity_id);
        expect(f.time).toBe(Date.parse(TIME));
        expect(Number.isInteger(f.time)).toBe(true);
        expect([f.severity_id, f.severity]).toEqual(e.severity);
        expect([f.status_id, f.status]).toEqual(e.status);
        expect(f.message).toBe(f.finding_info.title);
        expect(f.metadata.version).toBe(OCSF_VERSION);
        expect(f.metadata.version).toMatch(/^1\.\d+\.\d+$/);
        expect(f.metadata.uid).toBe(r.id);
        expect(f.metadata.product).toEqual({ name: 'imds-guard', vendor_name: 'imds-guard', version: '0.1.0' });
        expect(f.finding_info.uid).toBe(findingId(r));
        expect(f.finding_info.title.length).toBeGreaterThan(0);
        expect(f.finding_info.desc).toContain(`outcome: ${outcome}`);
        expect(f.finding_info.created_time).toBe(Date.parse(TIME));
        expect(f.compliance.control).toBe('imdsv2-hop-limit');
        expect(f.compliance.standards.length).toBeGreaterThan(0);
        expect(Array.isArray(f.compliance.requirements)).toBe(true);
        expect([f.compliance.status_id, f.compliance.status]).toEqual(e.compliance);
        expect(f.resources).toHaveLength(1);
        expect(f.resources[0].uid).toBe(r.resource.arn);
        expect(f.resources[0].type).toBe(RESOURCE_TYPE[type]);
        expect(f.resources[0].region).toBe(REGION);
        expect(f.resources[0].cloud_partition).toBe('aws');
        expect(f.resources[0].owner).toEqual({ name: 'team-payments' });
        expect(f.cloud).toEqual({ provider: 'AWS', region: REGION, account: { uid: ACCOUNT, type: 'AWS Account', type_id: 10 } });
        expect(f.remediation.desc.length).toBeGreaterThan(0);
        // JSON Lines: one line, and it round-trips.
        expect(JSON.stringify(f)).not.toContain('\n');
        expect(JSON.parse(JSON.stringify(f))).toEqual(f);
      });
    }
  }
});

describe('toOcsf: details', () => {
  it('EC2.8 and EC2.170 as requirements for instances and launch templates', () => {
    expect(toOcsf(record('instance', 'failed')).compliance.requirements).toEqual(['EC2.8']);
    expect(toOcsf(record('instance', 'failed')).compliance.standards).toEqual(['imds-guard', 'AWS Foundational Security Best Practices']);
    expect(toOcsf(record('launch-template', 'failed')).compliance.requirements).toEqual(['EC2.170']);
    expect(toOcsf(record('nodegroup', 'failed')).compliance).toMatchObject({ requirements: [], standards: ['imds-guard'] });
  });

  it('violations as status_detail; none on a pass', () => {
    expect(toOcsf(record('instance', 'failed')).compliance.status_detail).toBe(
      'HttpTokens is optional, expected required; HttpPutResponseHopLimit is 2, expected <= 1',
    );
    expect(toOcsf(record('instance', 'compliant')).compliance).not.toHaveProperty('status_detail');
  });

  it('node groups name their cluster as the resource group; metadata options as they are now', () => {
    const f = toOcsf(record('nodegroup', 'remediated'));
    expect(f.resources[0]!.group).toEqual({ name: 'payments', uid: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/payments` });
    expect(f.resources[0]!.data).toEqual({ metadata_options: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' } });
  });

  it('the fix for an instance is the CLI command', () => {
    expect(toOcsf(record('instance', 'failed')).remediation.desc).toBe(
      `aws ec2 modify-instance-metadata-options --region ${REGION} --instance-id i-0abc --http-tokens required --http-put-response-hop-limit 1`,
    );
  });

  it('no product version unless given', () => {
    expect(toOcsf(record('instance', 'failed')).metadata.product).toEqual({ name: 'imds-guard', vendor_name: 'imds-guard' });
  });
});
