import { describe, expect, it } from 'vitest';
import { decideScope, exemptionDetails, identifyNode, resolveOwner, resolveOwnerFrom } from '../../lib/domain/scope.js';

const cfg = { scope: 'eks' as const, exemptTagKey: 'imds-guard:exempt', exemptTagValue: 'true', exemptClusters: ['legacy'] };

describe('identifyNode: every launcher in REFERENCE §3', () => {
  it.each([
    [
      'managed node group',
      {
        'eks:cluster-name': 'payments',
        'eks:nodegroup-name': 'ng1',
        'aws:autoscaling:groupName': 'eks-ng1-x',
        'kubernetes.io/cluster/payments': 'owned',
      },
      'managed-nodegroup',
      'payments',
      'ng1',
    ],
    ['self-managed', { 'kubernetes.io/cluster/payments': 'owned' }, 'self-managed', 'payments', undefined],
    ['self-managed shared', { 'kubernetes.io/cluster/payments': 'shared' }, 'self-managed', 'payments', undefined],
    [
      'eksctl',
      { 'alpha.eksctl.io/cluster-name': 'dev', 'alpha.eksctl.io/nodegroup-name': 'ng-a', 'kubernetes.io/cluster/dev': 'owned' },
      'self-managed',
      'dev',
      'ng-a',
    ],
    [
      'karpenter',
      {
        'karpenter.sh/nodepool': 'default',
        'karpenter.k8s.aws/ec2nodeclass': 'default',
        'eks:eks-cluster-name': 'analytics',
        'kubernetes.io/cluster/analytics': 'owned',
      },
      'karpenter',
      'analytics',
      'default',
    ],
    ['auto mode', { 'eks:eks-cluster-name': 'auto' }, 'auto-mode', 'auto', undefined],
    ['plain instance', { Name: 'bastion' }, 'none', undefined, undefined],
    ['cluster tag with a foreign value', { 'kubernetes.io/cluster/x': 'whatever' }, 'none', undefined, undefined],
  ])('%s', (_n, tags, launcher, cluster, nodegroup) => {
    const id = identifyNode(tags as Record<string, string>);
    expect(id.launcher).toBe(launcher);
    expect(id.eks).toBe(launcher !== 'none');
    expect(id.cluster).toBe(cluster);
    expect(id.nodegroup).toBe(nodegroup);
  });
});

describe('decideScope', () => {
  const node = { 'kubernetes.io/cluster/payments': 'owned' };
  it('eks scope skips non-EKS instances; all scope takes them', () => {
    expect(decideScope({ Name: 'bastion' }, cfg).action).toBe('out-of-scope');
    expect(decideScope({ Name: 'bastion' }, { ...cfg, scope: 'all' }).action).toBe('enforce');
    expect(decideScope(node, cfg).action).toBe('enforce');
  });
  it('exempt by tag (exact value, as the tag policy fixes it) and by cluster list', () => {
    expect(decideScope({ ...node, 'imds-guard:exempt': 'true' }, cfg)).toMatchObject({
      action: 'exempt',
      reason: expect.stringContaining('imds-guard:exempt'),
    });
    // issue 17, attack 2: TRUE, True and padded values are not the tag policy's value, so not an exemption.
    for (const v of ['TRUE', 'True', ' true', 'true '])
      expect(decideScope({ ...node, 'imds-guard:exempt': v }, cfg).action, v).toBe('enforce');
    expect(decideScope({ ...node, 'imds-guard:exempt': 'false' }, cfg).action).toBe('enforce');
    expect(decideScope({ 'kubernetes.io/cluster/legacy': 'owned' }, cfg)).toMatchObject({
      action: 'exempt',
      reason: expect.stringContaining('EXEMPT_CLUSTERS'),
    });
  });
  it('owner: first configured tag, then the default', () => {
    expect(resolveOwner({ team: 'b', owner: 'a' }, ['owner', 'Owner', 'team'], 'none')).toBe('a');
    expect(resolveOwner({ team: 'b', owner: ' ' }, ['owner', 'Owner', 'team'], 'none')).toBe('b');
    expect(resolveOwner({}, ['owner'], 'platform')).toBe('platform');
  });
});

describe('scope and exemption hardening (issue 17, attack 2)', () => {
  it('kubernetes.io/cluster/<name> counts with any case of owned/shared', () => {
    for (const v of ['Owned', 'OWNED', 'Shared', 'sHaReD']) {
      expect(identifyNode({ 'kubernetes.io/cluster/prod': v }), v).toMatchObject({ eks: true, launcher: 'self-managed', cluster: 'prod' });
      expect(decideScope({ 'kubernetes.io/cluster/prod': v }, cfg).action, v).toBe('enforce');
    }
    expect(identifyNode({ 'kubernetes.io/cluster/prod': 'owner' }).eks).toBe(false);
  });

  it('records who set the exemption when the triggering CreateTags set it', () => {
    const set = { tagChange: { set: { 'imds-guard:exempt': 'true' }, deleted: [] }, actor: 'arn:aws:sts::1:assumed-role/A/b' };
    expect(exemptionDetails({ ...set, eventName: 'CreateTags', eventTime: 't' }, cfg)).toEqual({
      exemption: { setBy: 'arn:aws:sts::1:assumed-role/A/b', setAt: 't', event: 'CreateTags' },
    });
    expect(exemptionDetails({ tagChange: { set: { 'imds-guard:exempt': 'TRUE' }, deleted: [] }, actor: 'a', eventTime: 't' }, cfg)).toBe(
      undefined,
    );
    expect(exemptionDetails({ actor: 'a', eventTime: 't' }, cfg)).toBe(undefined);
  });
});

describe('owner routing prefers the node group and cluster (issue 17, attack 4)', () => {
  const keys = ['owner', 'team'];
  it('nodegroup-first by default: node group, then cluster, then instance, then the default; with its source', () => {
    const all = { instance: { owner: 'attacker' }, nodegroup: { team: 'payments' }, cluster: { owner: 'platform' } };
    expect(resolveOwnerFrom(all, keys, 'dflt')).toEqual({ owner: 'payments', ownerSource: 'nodegroup' });
    expect(resolveOwnerFrom({ ...all, nodegroup: {} }, keys, 'dflt')).toEqual({ owner: 'platform', ownerSource: 'cluster' });
    expect(resolveOwnerFrom({ instance: { owner: 'a' } }, keys, 'dflt')).toEqual({ owner: 'a', ownerSource: 'instance' });
    expect(resolveOwnerFrom({}, keys, 'dflt')).toEqual({ owner: 'dflt', ownerSource: 'default' });
  });
  it('instance-first keeps the instance tags first', () => {
    expect(resolveOwnerFrom({ instance: { owner: 'a' }, nodegroup: { owner: 'b' } }, keys, 'd', 'instance-first')).toEqual({
      owner: 'a',
      ownerSource: 'instance',
    });
  });
});
