// Issue 17 item 2: the exempt tag and the EKS scope tags are protected by an SCP and a tag policy.
import { describe, expect, it } from 'vitest';
import { validateIamPolicy } from './iam-policy-grammar.js';
import { readJson, readRepoFile } from './repo.js';
import { validateTagPolicy } from './tag-policy-shape.js';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition: Record<string, Record<string, string | string[]>>;
}

const SCP_PATH = 'infra/guardrails/scp-protect-tags.json';
const TAG_POLICY_PATH = 'infra/guardrails/tag-policy-exempt.json';
const ADMIN = 'arn:aws:iam::*:role/imds-guard-exemption-admin';
const INSTANCES = 'arn:aws:ec2:*:*:instance/*';
const EXEMPT_KEY = 'imds-guard:exempt';

const scp = readJson(SCP_PATH) as { Version: string; Statement: Statement[] };
const bySid = (sid: string): Statement => {
  const s = scp.Statement.find((x) => x.Sid === sid);
  if (!s) throw new Error(`no statement ${sid}`);
  return s;
};
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** IAM `StringLike` semantics for one value: `*` any run, `?` one character. */
const like = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

/** The tag keys the scope rules read (lib/domain/scope.ts identifyNode). */
const SCOPE_KEYS = [
  'eks:cluster-name',
  'eks:nodegroup-name',
  'eks:eks-cluster-name',
  'kubernetes.io/cluster/prod',
  'karpenter.sh/nodepool',
  'karpenter.k8s.aws/ec2nodeclass',
  'alpha.eksctl.io/cluster-name',
];

describe('SCP scp-protect-tags.json', () => {
  it('is valid SCP grammar, deny-only, within the SCP size limit', () => {
    expect(scp.Version).toBe('2012-10-17');
    expect(validateIamPolicy(scp, { scp: true })).toEqual([]);
    expect(new Set(scp.Statement.map((s) => s.Effect))).toEqual(new Set(['Deny']));
  });

  it('denies creating, changing or deleting the exempt tag on instances, groups and EKS resources, except by the admin role', () => {
    const s = bySid('DenyExemptTagChangesExceptExemptionAdmin');
    expect(list(s.Action).sort()).toEqual(
      [
        'autoscaling:CreateAutoScalingGroup',
        'autoscaling:CreateOrUpdateTags',
        'autoscaling:DeleteTags',
        'ec2:CreateTags',
        'ec2:DeleteTags',
        'eks:TagResource',
        'eks:UntagResource',
      ].sort(),
    );
    expect(s.Resource).toBe('*');
    // aws:TagKeys is multivalued: ForAnyValue matches a request carrying the key among others.
    expect(s.Condition['ForAnyValue:StringEquals']).toEqual({ 'aws:TagKeys': [EXEMPT_KEY] });
    expect(s.Condition.ArnNotLike).toEqual({ 'aws:PrincipalArn': ADMIN });
    // No ec2:CreateAction guard: CreateTags authorised during RunInstances/CreateFleet is denied too.
    expect(Object.keys(s.Condition).sort()).toEqual(['ArnNotLike', 'ForAnyValue:StringEquals']);
  });

  it('protects every scope key from deletion on instances (and DeleteTags without keys, which deletes all)', () => {
    const s = bySid('DenyScopeTagDeletionOnInstances');
    expect([s.Action, s.Resource]).toEqual(['ec2:DeleteTags', INSTANCES]);
    const patterns = list(s.Condition['ForAnyValue:StringLike']?.['aws:TagKeys']);
    for (const key of SCOPE_KEYS)
      expect(
        patterns.some((p) => like(p, key)),
        key,
      ).toBe(true);
    expect(patterns.some((p) => like(p, 'Name'))).toBe(false);
    const all = bySid('DenyDeleteAllTagsOnInstances');
    expect(all.Condition.Null).toEqual({ 'aws:TagKeys': 'true' });
  });

  it('denies overwriting scope keys after launch only, so tag-on-create by launchers still works', () => {
    const s = bySid('DenyScopeTagOverwriteAfterLaunch');
    expect([s.Action, s.Resource]).toEqual(['ec2:CreateTags', INSTANCES]);
    expect(s.Condition.Null).toEqual({ 'ec2:CreateAction': 'true' });
    const patterns = list(s.Condition['ForAnyValue:StringLike']?.['aws:TagKeys']);
    for (const key of SCOPE_KEYS.filter((k) => k !== 'eks:eks-cluster-name'))
      expect(
        patterns.some((p) => like(p, key)),
        key,
      ).toBe(true);
    // Karpenter's controller tags eks:eks-cluster-name after launch: a separate statement exempts it.
    expect(patterns.some((p) => like(p, 'eks:eks-cluster-name'))).toBe(false);
    const karpenter = bySid('DenyKarpenterClusterTagOverwriteAfterLaunch');
    expect(karpenter.Condition['ForAnyValue:StringEquals']).toEqual({ 'aws:TagKeys': ['eks:eks-cluster-name'] });
    expect(list(karpenter.Condition.ArnNotLike?.['aws:PrincipalArn'])).toEqual([ADMIN, 'arn:aws:iam::*:role/KarpenterController*']);
  });

  it('exempts only the exemption-admin role (plus Karpenter for its one key)', () => {
    for (const s of scp.Statement) expect(list(s.Condition.ArnNotLike?.['aws:PrincipalArn'])[0], s.Sid).toBe(ADMIN);
  });

  it('rejects the SCP once aws:TagKeys loses its set operator (the checker is not a rubber stamp)', () => {
    const broken = readRepoFile(SCP_PATH).replace('"ForAnyValue:StringEquals"', '"StringEquals"');
    expect(validateIamPolicy(JSON.parse(broken), { scp: true }).map((i) => i.message)).toEqual([
      '"aws:TagKeys" is multivalued: use ForAnyValue: or ForAllValues:',
    ]);
    const typo = readRepoFile(SCP_PATH).replace('"ec2:CreateAction"', '"ec2:CreatAction"');
    expect(validateIamPolicy(JSON.parse(typo), { scp: true }).map((i) => i.message)).toContain('unknown condition key "ec2:CreatAction"');
  });
});

describe('tag policy tag-policy-exempt.json', () => {
  const doc = readJson(TAG_POLICY_PATH) as any;

  it('is a well-formed tag policy', () => {
    expect(validateTagPolicy(doc)).toEqual([]);
  });

  it('fixes the exempt key capitalisation and its only value to exactly "true", enforced on instances', () => {
    const entry = doc.tags[EXEMPT_KEY];
    expect(entry.tag_key).toEqual({ '@@assign': EXEMPT_KEY });
    expect(entry.tag_value).toEqual({ '@@assign': ['true'] });
    expect(entry.enforced_for['@@assign']).toContain('ec2:instance');
  });

  it('the shape check catches a wrong top level, a key mismatch and a bad resource type', () => {
    expect(validateTagPolicy({ tag: {} })[0]?.path).toBe('$');
    const mismatch = { tags: { 'imds-guard:exempt': { tag_key: { '@@assign': 'imds-guard:exemption' } } } };
    expect(validateTagPolicy(mismatch).map((i) => i.path)).toEqual(['tags.imds-guard:exempt.tag_key']);
    const badType = structuredClone(doc);
    badType.tags[EXEMPT_KEY].enforced_for['@@assign'] = ['instance'];
    expect(validateTagPolicy(badType).map((i) => i.message)).toEqual(['"instance" is not service:resourceType']);
    const badValue = structuredClone(doc);
    badValue.tags[EXEMPT_KEY].tag_value = { '@@assign': 'true' };
    expect(validateTagPolicy(badValue).map((i) => i.path)).toEqual(['tags.imds-guard:exempt.tag_value.@@assign']);
  });
});
