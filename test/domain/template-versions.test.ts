import { describe, expect, it } from 'vitest';
import {
  existingFix,
  isEksManaged,
  judgeVersions,
  launchesEksNodes,
  planTemplateFixes,
  type TemplateInfo,
  type TemplateVersion,
} from '../../lib/domain/template-versions.js';
import { gatePolicy, issuerRegistered } from '../../lib/domain/identity.js';

const policy = { maxHopLimit: 1 };
const bad = { httpTokens: 'optional' as const, hopLimit: 2, httpEndpoint: 'enabled' as const, instanceMetadataTags: 'enabled' as const };
const good = { httpTokens: 'required' as const, hopLimit: 1 };
const tpl = (d: number, l: number, name = 'nodes'): TemplateInfo => ({
  id: 'lt-0123456789abcdef0',
  name,
  defaultVersion: d,
  latestVersion: l,
  tags: {},
});
const v = (version: number, mo?: TemplateVersion['metadataOptions'], description?: string): TemplateVersion => ({
  version,
  ...(mo ? { metadataOptions: mo } : {}),
  instanceTags: {},
  ...(description ? { description } : {}),
});

describe('launch template policy', () => {
  it('recognises EKS-created templates', () => {
    expect(isEksManaged({ name: 'eks-8cc5b4a1-1111-2222-3333-444455556666', tags: {} })).toBe(true);
    expect(isEksManaged({ name: 'eks-custom', tags: { 'eks:nodegroup-name': 'ng' } })).toBe(true);
    expect(isEksManaged({ name: 'eks-custom', tags: {} })).toBe(false);
    expect(isEksManaged({ name: 'analytics-nodes', tags: { 'eks:cluster-name': 'a' } })).toBe(false);
  });

  it('a bad default that is also latest gets one fix that becomes the default', () => {
    const fixes = planTemplateFixes(judgeVersions(tpl(1, 1), [v(1, bad)], policy), policy);
    expect(fixes).toEqual([
      expect.objectContaining({
        sourceVersion: 1,
        makeDefault: true,
        metadataOptions: { ...bad, httpTokens: 'required', hopLimit: 1 },
        description: expect.stringMatching(/^imds-guard: .*from version 1/),
      }),
    ]);
  });

  it('bad default and bad latest: default first, latest last (so $Latest keeps its lineage)', () => {
    const fixes = planTemplateFixes(judgeVersions(tpl(1, 3), [v(1, bad), v(3, { httpTokens: 'required', hopLimit: 2 })], policy), policy);
    expect(fixes.map((f) => [f.sourceVersion, f.makeDefault])).toEqual([
      [1, true],
      [3, false],
    ]);
  });

  it('missing MetadataOptions counts as a violation; the fix sets both fields', () => {
    const [fix] = planTemplateFixes(judgeVersions(tpl(1, 1), [v(1)], policy), policy);
    expect(fix!.metadataOptions).toEqual({ httpTokens: 'required', hopLimit: 1 });
  });

  it('compliant default and latest: nothing to fix, even if an old version is bad', () => {
    const verdicts = judgeVersions(tpl(2, 2), [v(1, bad), v(2, good)], policy);
    expect(planTemplateFixes(verdicts, policy)).toEqual([]);
  });

  it('EKS tags on the template or the instances it launches mark it as an EKS template', () => {
    expect(launchesEksNodes({ ...tpl(1, 1), tags: { 'eks:cluster-name': 'a', 'eks:nodegroup-name': 'n' } }, [])).toEqual({
      eks: true,
      cluster: 'a',
    });
    expect(launchesEksNodes(tpl(1, 1), [{ ...v(1), instanceTags: { 'kubernetes.io/cluster/b': 'owned' } }])).toEqual({
      eks: true,
      cluster: 'b',
    });
    expect(launchesEksNodes(tpl(1, 1), [v(1)])).toEqual({ eks: false });
  });

  it('reuses a compliant version imds-guard already derived from the same source', () => {
    const versions = [v(1, bad), v(2, good, 'imds-guard: MetadataOptions fixed from version 1 (HttpTokens=required, hop limit <= 1)')];
    expect(existingFix(versions, 1, policy)?.version).toBe(2);
    expect(existingFix(versions, 3, policy)).toBeUndefined();
  });
});

describe('identity gate', () => {
  const none = { cluster: 'c', irsa: false, podIdentityAgent: false, podIdentityAssociations: 0 };
  it('warn: enforce, with a note for the owner', () => {
    const g = gatePolicy(policy, 'warn', none);
    expect(g.policy).toEqual(policy);
    expect(g.notes[0]).toMatch(/lose them/);
  });
  it('hold: require tokens but keep the hop limit', () => {
    expect(gatePolicy(policy, 'hold', none).policy).toEqual({ maxHopLimit: 1, holdHopLimit: true });
  });
  it('ready clusters and off: the base policy, no notes', () => {
    expect(gatePolicy(policy, 'hold', { ...none, irsa: true })).toMatchObject({ policy, notes: [] });
    expect(gatePolicy(policy, 'hold', { ...none, podIdentityAgent: true, podIdentityAssociations: 1 })).toMatchObject({
      policy,
      notes: [],
    });
    expect(gatePolicy(policy, 'off', none)).toEqual({ policy, notes: [] });
  });
  it('IRSA: the issuer must be registered as an IAM OIDC provider', () => {
    const issuer = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF';
    expect(issuerRegistered(issuer, ['arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF'])).toBe(true);
    expect(issuerRegistered(issuer, ['arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER'])).toBe(false);
  });
});
