// Findings in: the EventBridge shapes of Security Hub CSPM (ASFF) and the new Security Hub (OCSF), the loop guard
// and what is ignored. Pure: no AWS call is possible here.
import { describe, expect, it } from 'vitest';
import { parseFindingEvent } from '../../lib/domain/finding-event.js';
import { closingOf } from '../../lib/report/findings/closing.js';
import { record } from '../report/findings/records.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const LT = 'lt-0123456789abcdef0';

function asff(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    SchemaVersion: '2018-10-08',
    Id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/EC2.8/finding/abc`,
    ProductArn: `arn:aws:securityhub:${REGION}::product/aws/securityhub`,
    GeneratorId: 'security-control/EC2.8',
    AwsAccountId: ACCOUNT,
    UpdatedAt: '2026-12-01T10:00:00.000Z',
    Compliance: { Status: 'FAILED', SecurityControlId: 'EC2.8' },
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
    Resources: [{ Type: 'AwsEc2Instance', Id: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`, Region: REGION }],
    ...over,
  };
}
const event = (findings: unknown[], detailType = 'Security Hub Findings - Imported') => ({
  version: '0',
  id: 'ev-1',
  'detail-type': detailType,
  source: 'aws.securityhub',
  account: ACCOUNT,
  time: '2026-12-01T10:00:01Z',
  region: REGION,
  resources: [],
  detail: { findings },
});

function ocsf(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    class_uid: 2003,
    status_id: 1,
    metadata: { uid: 'm-1', product: { name: 'Security Hub', uid: 'aws/securityhub' }, version: '1.6.0' },
    finding_info: { uid: 'f-170', modified_time_dt: '2026-12-01T10:00:00Z' },
    compliance: { control: 'EC2.170', status: 'Fail', status_id: 3 },
    cloud: { account: { uid: ACCOUNT }, region: REGION },
    resources: [{ type: 'AWS::EC2::LaunchTemplate', uid: `arn:aws:ec2:${REGION}:${ACCOUNT}:launch-template/${LT}`, region: REGION }],
    ...over,
  };
}

describe('parseFindingEvent: ASFF (Security Hub CSPM)', () => {
  it('EC2.8 names the instance; the trigger is the finding at its UpdatedAt', () => {
    const p = parseFindingEvent(event([asff()]));
    expect(p).toMatchObject({
      kind: 'targets',
      targets: [{ control: 'EC2.8', resource: { type: 'instance', id: INSTANCE }, region: REGION, account: ACCOUNT }],
      trigger: { source: 'securityhub', eventId: `${asff().Id}@2026-12-01T10:00:00.000Z` },
    });
  });

  it('the control from ProductFields.ControlId (standards-specific findings) and EC2.170 for a template', () => {
    const lt = asff({
      Compliance: { Status: 'FAILED' },
      GeneratorId: 'aws-foundational-security-best-practices/v/1.0.0/EC2.170',
      ProductFields: { ControlId: 'EC2.170' },
      Resources: [{ Type: 'AwsEc2LaunchTemplate', Id: `arn:aws:ec2:us-east-1:${ACCOUNT}:launch-template/${LT}` }],
    });
    expect(parseFindingEvent(event([lt]))).toMatchObject({
      kind: 'targets',
      targets: [{ control: 'EC2.170', resource: { type: 'launch-template', id: LT }, region: 'us-east-1' }],
    });
  });

  it.each([
    ['passed', { Compliance: { Status: 'PASSED', SecurityControlId: 'EC2.8' } }],
    ['another control', { Compliance: { Status: 'FAILED', SecurityControlId: 'EC2.9' }, GeneratorId: 'security-control/EC2.9' }],
    ['suppressed', { Workflow: { Status: 'SUPPRESSED' } }],
    ['archived', { RecordState: 'ARCHIVED' }],
    ['another account', { AwsAccountId: '999988887777' }],
    ['no instance in Resources', { Resources: [{ Type: 'AwsAccount', Id: `AWS::::Account:${ACCOUNT}` }] }],
  ])('%s: ignored', (_name, over) => {
    expect(parseFindingEvent(event([asff(over)]))).toMatchObject({ kind: 'ignored', reason: 'unsupported-event' });
  });

  it("loop guard: imds-guard's own note as the latest change, or imds-guard's own finding, is self-caused", () => {
    const echoed = asff({ Note: { Text: 'imds-guard: remediated', UpdatedBy: 'imds-guard', UpdatedAt: '2026-12-01T10:00:05.000Z' } });
    expect(parseFindingEvent(event([echoed]))).toMatchObject({ kind: 'ignored', reason: 'self-caused' });
    const own = asff({ ProductName: 'imds-guard', GeneratorId: 'imds-guard/imdsv2-hop-limit' });
    expect(parseFindingEvent(event([own]))).toMatchObject({ kind: 'ignored', reason: 'self-caused' });
    // A re-evaluation after our note (UpdatedAt later) is a new failure: acted on.
    const again = asff({ UpdatedAt: '2026-12-02T10:00:00.000Z', Note: (echoed as { Note: unknown }).Note });
    expect(parseFindingEvent(event([again])).kind).toBe('targets');
  });

  it('bad input: invalid with the issues, never a throw', () => {
    for (const bad of [null, 'x', {}, event([]), { ...event([asff()]), source: 'aws.ec2' }, { ...event([asff()]), account: 'x' }]) {
      const p = parseFindingEvent(bad);
      expect(p.kind).toBe('invalid');
    }
  });
});

describe('parseFindingEvent: OCSF (the new Security Hub, Findings Imported V2)', () => {
  it('EC2.170 names the template; the ref is the V2 identifier', () => {
    expect(parseFindingEvent(event([ocsf()], 'Findings Imported V2'))).toMatchObject({
      kind: 'targets',
      targets: [
        {
          control: 'EC2.170',
          resource: { type: 'launch-template', id: LT },
          ref: { format: 'ocsf', CloudAccountUid: ACCOUNT, FindingInfoUid: 'f-170', MetadataProductUid: 'aws/securityhub' },
        },
      ],
    });
  });

  it('a pass, a resolved finding and our own comment are ignored', () => {
    const v2 = (o: Record<string, unknown>) => parseFindingEvent(event([ocsf(o)], 'Findings Imported V2'));
    expect(v2({ compliance: { control: 'EC2.170', status: 'Pass', status_id: 1 } })).toMatchObject({ kind: 'ignored' });
    expect(v2({ status_id: 4 })).toMatchObject({ kind: 'ignored' });
    expect(v2({ status_id: 2, comment: 'imds-guard: exempt lt-0123456789abcdef0' })).toMatchObject({
      kind: 'ignored',
      reason: 'self-caused',
    });
  });
});

describe('closingOf', () => {
  it('remediated -> RESOLVED with what was set; exempt -> NOTIFIED with the reason; failed -> a note only', () => {
    expect(closingOf([record('instance', 'remediated')])).toEqual({
      workflow: 'RESOLVED',
      note: 'imds-guard: remediated i-0abc (HttpTokens required, hop limit 1)',
    });
    expect(closingOf([record('instance', 'exempt')])).toEqual({
      workflow: 'NOTIFIED',
      note: 'imds-guard: exempt i-0abc: tag imds-guard:exempt=true',
    });
    expect(closingOf([record('instance', 'remediated'), record('instance', 'failed')]).workflow).toBeUndefined();
    expect(closingOf([]).workflow).toBeUndefined();
  });
});
