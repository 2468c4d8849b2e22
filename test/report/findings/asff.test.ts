import { describe, expect, it } from 'vitest';
import { ASFF_TYPE, asffResource, batches, findingId, productArn, toAsff } from '../../../lib/report/findings/asff.js';
import { ACCOUNT, OUTCOMES, REGION, record, TIME, TYPES } from './records.js';

// The published list: docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html
const REQUIRED = [
  'AwsAccountId',
  'CreatedAt',
  'Description',
  'GeneratorId',
  'Id',
  'ProductArn',
  'Resources',
  'SchemaVersion',
  'Severity',
  'Title',
  'Types',
  'UpdatedAt',
] as const;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const EXPECTED: Record<string, { compliance: string; workflow: string; label: string; state: string }> = {
  remediated: { compliance: 'PASSED', workflow: 'RESOLVED', label: 'INFORMATIONAL', state: 'ACTIVE' },
  compliant: { compliance: 'PASSED', workflow: 'RESOLVED', label: 'INFORMATIONAL', state: 'ACTIVE' },
  'would-remediate': { compliance: 'FAILED', workflow: 'NEW', label: 'MEDIUM', state: 'ACTIVE' },
  failed: { compliance: 'FAILED', workflow: 'NEW', label: 'HIGH', state: 'ACTIVE' },
  reverted: { compliance: 'FAILED', workflow: 'NEW', label: 'HIGH', state: 'ACTIVE' },
  reported: { compliance: 'FAILED', workflow: 'NOTIFIED', label: 'MEDIUM', state: 'ACTIVE' },
  exempt: { compliance: 'WARNING', workflow: 'NOTIFIED', label: 'LOW', state: 'ACTIVE' },
  gone: { compliance: 'NOT_AVAILABLE', workflow: 'RESOLVED', label: 'INFORMATIONAL', state: 'ARCHIVED' },
  'out-of-scope': { compliance: 'NOT_AVAILABLE', workflow: 'SUPPRESSED', label: 'INFORMATIONAL', state: 'ARCHIVED' },
};
const RESOURCE_TYPE = {
  instance: 'AwsEc2Instance',
  'launch-template': 'AwsEc2LaunchTemplate',
  nodegroup: 'AwsEksCluster',
  'account-defaults': 'AwsAccount',
};

describe('toAsff: required top-level attributes, for every resource type and outcome', () => {
  for (const type of TYPES) {
    for (const outcome of OUTCOMES) {
      it(`${type} ${outcome}`, () => {
        const r = record(type, outcome);
        const f = toAsff(r) as unknown as Record<string, any>;
        for (const k of REQUIRED) expect(f[k], k).toBeDefined();
        expect(f.SchemaVersion).toBe('2018-10-08');
        expect(f.Id).toBe(findingId(r));
        expect(f.Id.length).toBeLessThanOrEqual(512);
        expect(f.ProductArn).toBe(`arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`);
        expect(f.GeneratorId).toBe('imds-guard/imdsv2-hop-limit');
        expect(f.AwsAccountId).toBe(ACCOUNT);
        expect(f.Types).toEqual([ASFF_TYPE]);
        expect(f.CreatedAt).toMatch(ISO);
        expect(f.UpdatedAt).toMatch(ISO);
        expect(f.CreatedAt).toBe(TIME);
        expect(f.Severity.Label).toBe(EXPECTED[outcome]!.label);
        expect(f.Severity.Original).toBe(r.severity);
        expect(f.FindingProviderFields).toEqual({ Severity: f.Severity, Types: [ASFF_TYPE] });
        expect(typeof f.Title).toBe('string');
        expect(f.Title.length).toBeGreaterThan(0);
        expect(f.Title.length).toBeLessThanOrEqual(256);
        expect(f.Description).toContain(`outcome: ${outcome}`);
        expect(f.Description.length).toBeLessThanOrEqual(1024);
        expect(f.Resources).toHaveLength(1);
        expect(f.Resources[0].Type).toBe(RESOURCE_TYPE[type]);
        expect(f.Resources[0].Id.length).toBeGreaterThan(0);
        expect(f.Resources[0].Region).toBe(REGION);
        expect(f.Resources[0].Partition).toBe('aws');
        expect(f.Compliance.Status).toBe(EXPECTED[outcome]!.compliance);
        expect(f.Workflow.Status).toBe(EXPECTED[outcome]!.workflow);
        expect(f.RecordState).toBe(EXPECTED[outcome]!.state);
        expect(f.Remediation.Recommendation.Text.length).toBeGreaterThan(0);
        expect(f.Remediation.Recommendation.Text.length).toBeLessThanOrEqual(512);
        expect(f.ProductFields['imds-guard/outcome']).toBe(outcome);
        for (const v of Object.values(f.ProductFields)) expect(typeof v).toBe('string');
      });
    }
  }

  it('an outcome it does not know (a newer producer) is FAILED, never a pass', () => {
    const f = toAsff({ ...record('instance', 'remediated'), outcome: 'reverted' as never, severity: 'high' });
    expect([f.Compliance.Status, f.Workflow.Status, f.Severity.Label]).toEqual(['FAILED', 'NEW', 'HIGH']);
  });
});

describe('toAsff: ids, times and partitions', () => {
  it('one finding per resource: later records, other triggers and other template versions update the same finding', () => {
    const a = toAsff(record('launch-template', 'would-remediate', { details: { sourceVersion: 1 } }));
    const b = toAsff({ ...record('launch-template', 'remediated', { details: { sourceVersion: 3 } }), id: 'ev-2:lt-0123:v3' });
    expect(a.Id).toBe(b.Id);
    expect(a.Id).toBe(`imds-guard/${REGION}/${ACCOUNT}/launch-template/lt-0123/imdsv2-hop-limit`);
    expect(toAsff(record('instance', 'failed')).Id).toBe(`imds-guard/${REGION}/${ACCOUNT}/instance/i-0abc/imdsv2-hop-limit`);
  });

  it('node groups are keyed by cluster and name', () => {
    expect(toAsff(record('nodegroup', 'reported')).Id).toBe(`imds-guard/${REGION}/${ACCOUNT}/nodegroup/payments/workers/imdsv2-hop-limit`);
  });

  it('times come from the options when the caller knows them', () => {
    const f = toAsff(record('instance', 'remediated'), {
      createdAt: '2026-11-01T00:00:00.000Z',
      updatedAt: '2026-11-21T00:00:00.000Z',
      firstObservedAt: '2026-11-01T00:00:00.000Z',
    });
    expect([f.CreatedAt, f.UpdatedAt, f.FirstObservedAt, f.LastObservedAt]).toEqual([
      '2026-11-01T00:00:00.000Z',
      '2026-11-21T00:00:00.000Z',
      '2026-11-01T00:00:00.000Z',
      TIME,
    ]);
    expect(toAsff(record('instance', 'remediated'))).not.toHaveProperty('FirstObservedAt');
  });

  it('product ARN and partition follow the Region', () => {
    expect(productArn('cn-north-1', ACCOUNT)).toBe(`arn:aws-cn:securityhub:cn-north-1:${ACCOUNT}:product/${ACCOUNT}/default`);
    const f = toAsff(record('instance', 'failed', { region: 'us-gov-west-1' }));
    expect(f.ProductArn).toBe(`arn:aws-us-gov:securityhub:us-gov-west-1:${ACCOUNT}:product/${ACCOUNT}/default`);
    expect(f.Resources[0]!.Partition).toBe('aws-us-gov');
    expect(f.Resources[0]!.Id).toBe(`arn:aws-us-gov:ec2:us-gov-west-1:${ACCOUNT}:instance/i-0abc`);
  });
});

describe('toAsff: resources and details', () => {
  it('instance: AwsEc2Instance with its ARN and MetadataOptions as they are now', () => {
    expect(asffResource(record('instance', 'remediated'))).toEqual({
      Type: 'AwsEc2Instance',
      Id: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0abc`,
      Partition: 'aws',
      Region: REGION,
      Details: { AwsEc2Instance: { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' } } },
    });
    // A dry run's `after` is a plan: the resource is still as found.
    expect(asffResource(record('instance', 'would-remediate')).Details?.AwsEc2Instance?.MetadataOptions).toEqual({
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 2,
      HttpEndpoint: 'enabled',
    });
  });

  it('launch template: AwsEc2LaunchTemplate with id, name and LaunchTemplateData.MetadataOptions', () => {
    expect(asffResource(record('launch-template', 'failed'))).toEqual({
      Type: 'AwsEc2LaunchTemplate',
      Id: `arn:aws:ec2:${REGION}:${ACCOUNT}:launch-template/lt-0123`,
      Partition: 'aws',
      Region: REGION,
      Details: {
        AwsEc2LaunchTemplate: {
          Id: 'lt-0123',
          LaunchTemplateName: 'payments-nodes',
          LaunchTemplateData: { MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' } },
        },
      },
    });
  });

  it('node group: its cluster as AwsEksCluster, the node group in Details.Other', () => {
    expect(asffResource(record('nodegroup', 'reported'))).toEqual({
      Type: 'AwsEksCluster',
      Id: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/payments`,
      Partition: 'aws',
      Region: REGION,
      Details: {
        AwsEksCluster: { Name: 'payments', Arn: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/payments` },
        Other: {
          NodegroupName: 'workers',
          NodegroupArn: `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/payments/workers`,
          HttpTokens: 'optional',
          HttpPutResponseHopLimit: '2',
          HttpEndpoint: 'enabled',
        },
      },
    });
  });

  it('account defaults: the account', () => {
    const r = asffResource(record('account-defaults', 'failed'));
    expect(r.Type).toBe('AwsAccount');
    expect(r.Id).toBe(`AWS::::Account:${ACCOUNT}`);
    expect(r.Details?.Other?.Arn).toBe(`arn:aws:ec2:${REGION}:${ACCOUNT}:instance-metadata-defaults`);
  });

  it('the AWS control each resource type answers to', () => {
    expect(toAsff(record('instance', 'failed')).Compliance.RelatedRequirements).toEqual(['AWS Foundational Security Best Practices EC2.8']);
    expect(toAsff(record('launch-template', 'failed')).Compliance.RelatedRequirements).toEqual([
      'AWS Foundational Security Best Practices EC2.170',
    ]);
    expect(toAsff(record('nodegroup', 'failed')).Compliance).not.toHaveProperty('RelatedRequirements');
  });
});

describe('toAsff: the exact fix', () => {
  it('instance: the CLI command, without turning a disabled endpoint back on', () => {
    const text = toAsff(record('instance', 'would-remediate')).Remediation.Recommendation.Text;
    expect(text).toBe(
      `aws ec2 modify-instance-metadata-options --region ${REGION} --instance-id i-0abc --http-tokens required --http-put-response-hop-limit 1`,
    );
    expect(text).not.toContain('--http-endpoint');
  });

  it("instance under the identity gate's hold: no hop limit", () => {
    const r = record('instance', 'would-remediate', { desired: { httpTokens: 'required' } });
    expect(toAsff(r).Remediation.Recommendation.Text).toBe(
      `aws ec2 modify-instance-metadata-options --region ${REGION} --instance-id i-0abc --http-tokens required`,
    );
  });

  it('account defaults: modify-instance-metadata-defaults', () => {
    expect(toAsff(record('account-defaults', 'failed')).Remediation.Recommendation.Text).toBe(
      `aws ec2 modify-instance-metadata-defaults --region ${REGION} --http-tokens required --http-put-response-hop-limit 1`,
    );
  });

  it('templates and node groups: the rollout command or recommendation the record carries', () => {
    const rollout = 'aws eks update-nodegroup-version --cluster-name payments --nodegroup-name workers --launch-template id=lt-1,version=4';
    expect(toAsff(record('nodegroup', 'reported', { details: { rolloutCommand: rollout } })).Remediation.Recommendation.Text).toBe(rollout);
    const rec = 'Create the node group with a custom launch template that sets HttpTokens=required and HttpPutResponseHopLimit=1';
    expect(toAsff(record('launch-template', 'reported', { details: { recommendation: rec } })).Remediation.Recommendation.Text).toBe(rec);
    expect(toAsff(record('launch-template', 'failed')).Remediation.Recommendation.Text).toContain('launch template lt-0123');
    expect(
      toAsff(record('nodegroup', 'failed', { details: { launchTemplate: { id: 'lt-9' } } })).Remediation.Recommendation.Text,
    ).toContain('lt-9');
  });

  it('clips every text to the ASFF limits', () => {
    const long = 'x'.repeat(3000);
    const f = toAsff(record('launch-template', 'reported', { reason: long, details: { recommendation: long } }));
    expect(f.Description).toHaveLength(1024);
    expect(f.Remediation.Recommendation.Text).toHaveLength(512);
    expect(f.ProductFields['imds-guard/reason']).toHaveLength(2048);
  });
});

describe('batches', () => {
  it('at most 100 per call, none empty, order kept', () => {
    const items = Array.from({ length: 250 }, (_, i) => i);
    const b = batches(items, 100);
    expect(b.map((x) => x.length)).toEqual([100, 100, 50]);
    expect(b.flat()).toEqual(items);
    expect(batches([], 100)).toEqual([]);
    expect(batches(items).map((x) => x.length)).toEqual([100, 100, 50]);
    expect(() => batches(items, 0)).toThrow(RangeError);
  });
});
