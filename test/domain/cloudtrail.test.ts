// The loop guard matches the principal (issue 17, attack 1) and the ID collector survives hostile trees (attack 6).
import { describe, expect, it } from 'vitest';
import { collectIds, ignoreReason, isSelfCaused, parseEnvelope, type CloudTrailDetail } from '../../lib/domain/cloudtrail.js';

const ROLE = 'imds-guard-prod-eu-west-1-enforce-instances';
const ACCOUNT = '111122223333';

function detail(userIdentity: Record<string, unknown>, region = 'eu-west-1'): CloudTrailDetail {
  return {
    eventName: 'ModifyInstanceMetadataOptions',
    eventID: 'e1',
    eventTime: '2026-01-01T00:00:00Z',
    awsRegion: region,
    recipientAccountId: ACCOUNT,
    userIdentity,
  };
}
const roleSession = (arn: string, type = 'Role', account = ACCOUNT) => ({
  type: 'AssumedRole',
  arn: `arn:aws:sts::${account}:assumed-role/${ROLE}/fn`,
  sessionContext: { sessionIssuer: { type, arn, accountId: account, userName: ROLE } },
});

describe('loop guard by principal', () => {
  it("imds-guard's own role in this account is self-caused (with the partition of the event's Region)", () => {
    expect(isSelfCaused(detail(roleSession(`arn:aws:iam::${ACCOUNT}:role/${ROLE}`)), [ROLE])).toBe(true);
    expect(isSelfCaused(detail(roleSession(`arn:aws-cn:iam::${ACCOUNT}:role/${ROLE}`), 'cn-north-1'), [ROLE])).toBe(true);
  });

  it('a federated session whose issuer is an IAM user named like the role is processed', () => {
    const d = detail({
      type: 'FederatedUser',
      arn: `arn:aws:sts::${ACCOUNT}:federated-user/${ROLE}`,
      sessionContext: { sessionIssuer: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/${ROLE}`, userName: ROLE } },
    });
    expect(isSelfCaused(d, [ROLE])).toBe(false);
    expect(ignoreReason(parseOk(d), [ROLE])).toBeUndefined();
  });

  it('an IAM user whose ARN ends in the role name, or a Role issuer with a user ARN, is processed', () => {
    expect(isSelfCaused(detail(roleSession(`arn:aws:iam::${ACCOUNT}:user/${ROLE}`)), [ROLE])).toBe(false);
    expect(isSelfCaused(detail(roleSession(`arn:aws:iam::${ACCOUNT}:role/${ROLE}`, 'IAMUser')), [ROLE])).toBe(false);
  });

  it('an assumed role of that name in another account is processed', () => {
    expect(isSelfCaused(detail(roleSession(`arn:aws:iam::444455556666:role/${ROLE}`, 'Role', '444455556666')), [ROLE])).toBe(false);
  });

  it('a role with a path, a look-alike name or the assumed-role ARN alone is processed', () => {
    expect(isSelfCaused(detail(roleSession(`arn:aws:iam::${ACCOUNT}:role/x/${ROLE}`)), [ROLE])).toBe(false);
    expect(isSelfCaused(detail(roleSession(`arn:aws:iam::${ACCOUNT}:role/${ROLE}-copy`)), [ROLE])).toBe(false);
    expect(isSelfCaused(detail({ type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/fn` }), [ROLE])).toBe(false);
  });
});

function parseOk(d: CloudTrailDetail) {
  const env = parseEnvelope({
    id: 'x',
    source: 'aws.ec2',
    account: ACCOUNT,
    time: d.eventTime,
    region: d.awsRegion,
    'detail-type': 'AWS API Call via CloudTrail',
    detail: d,
  });
  if (env.kind !== 'ok') throw new Error(env.message);
  return env;
}

describe('collectIds', () => {
  it('a 5,000-deep CreateFleet response does not throw, and finds the IDs', () => {
    let tree: unknown = { instanceIds: ['i-0123456789abcdef0'] };
    for (let i = 0; i < 5_000; i++) tree = { fleetInstanceSet: { item: [tree] } };
    expect(() => collectIds(tree, /^i-[0-9a-f]{8,17}$/)).not.toThrow();
    expect(collectIds({ a: ['i-0123456789abcdef0', { b: 'i-00000000aaaaaaaa1' }] }, /^i-[0-9a-f]{8,17}$/)).toEqual([
      'i-0123456789abcdef0',
      'i-00000000aaaaaaaa1',
    ]);
  });

  it('stops at its count bound', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    const found = collectIds({ set: ids }, /^i-[0-9a-f]{8,17}$/, { maxIds: 1_000 });
    expect(found).toHaveLength(1_000);
  });

  it('stops at its depth bound', () => {
    let tree: unknown = 'i-0123456789abcdef0';
    for (let i = 0; i < 100; i++) tree = [tree];
    expect(collectIds(tree, /^i-[0-9a-f]{8,17}$/, { maxDepth: 50 })).toEqual([]);
    expect(collectIds(tree, /^i-[0-9a-f]{8,17}$/, { maxDepth: 200 })).toEqual(['i-0123456789abcdef0']);
  });
});
