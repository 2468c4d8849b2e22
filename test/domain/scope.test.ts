import { describe, expect, it } from 'vitest';
import { decideScope, identifyNode, resolveOwner } from '../../lib/domain/scope.js';

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
  it('exempt by tag (case-insensitive value) and by cluster list', () => {
    expect(decideScope({ ...node, 'imds-guard:exempt': 'TRUE' }, cfg)).toMatchObject({
      action: 'exempt',
      reason: expect.stringContaining('imds-guard:exempt'),
    });
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
