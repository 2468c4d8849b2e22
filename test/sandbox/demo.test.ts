import { DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, type Instance } from '@aws-sdk/client-ec2';
import { DescribeNodegroupCommand, ListAddonsCommand, ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import { ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoInfo } from '../../sandbox/scenarios/demo.js';
import { harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
let info: DemoInfo;
let byId: Map<string, Instance>;
beforeAll(async () => {
  h = await harness({ throttle: {} }); // seeding must also work with default throttling
  info = await seedDemo({ endpoint: h.sb.url });
  const out = await h.ec2.send(new DescribeInstancesCommand({}));
  byId = new Map(out.Reservations!.flatMap((r) => r.Instances!).map((i) => [i.InstanceId!, i]));
});
afterAll(() => h.sb.close());

const mo = (id: string) => byId.get(id)!.MetadataOptions!;
const tags = (id: string) => Object.fromEntries(byId.get(id)!.Tags!.map((t) => [t.Key!, t.Value!]));
const compliant = (id: string) => mo(id).HttpTokens === 'required' && mo(id).HttpPutResponseHopLimit! <= 1;

describe('seedDemo', () => {
  it('creates the two clusters with IRSA for payments and Pod Identity for analytics', async () => {
    expect(info.region).toBe('eu-west-1');
    expect(Object.keys(info.clusters)).toEqual(['payments', 'analytics']);
    const oidc = await h.iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(oidc.OpenIDConnectProviderList!.map((p) => p.Arn)).toEqual([info.oidcProviderArn]);
    expect(info.oidcProviderArn).toContain(info.clusters.payments.oidcIssuer.replace('https://', ''));
    expect((await h.eks.send(new ListAddonsCommand({ clusterName: 'analytics' }))).addons).toEqual(['eks-pod-identity-agent']);
    expect((await h.eks.send(new ListAddonsCommand({ clusterName: 'payments' }))).addons).toEqual([]);
    const pia = await h.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'analytics' }));
    expect(pia.associations!.map((a) => a.associationId)).toEqual([info.podIdentity.associationId]);
  });

  it('has the default-template node group: 3 nodes on eks-<uuid>, optional/hop 2', async () => {
    const ng = info.nodegroups.paymentsDefault;
    expect(ng.instanceIds).toHaveLength(3);
    for (const id of ng.instanceIds) {
      expect(mo(id)).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 2 });
      expect(tags(id)['aws:ec2launchtemplate:id']).toBe(ng.launchTemplateId);
    }
    const d = await h.eks.send(new DescribeNodegroupCommand({ clusterName: 'payments', nodegroupName: ng.nodegroupName }));
    expect(d.nodegroup!.tags).toMatchObject({ team: 'payments' });
    expect(d.nodegroup!.launchTemplate).toBeUndefined();
  });

  it('has the custom-template node group: 2 nodes, template tagged team=analytics', async () => {
    const ng = info.nodegroups.analyticsCustom;
    expect(ng.instanceIds).toHaveLength(2);
    for (const id of ng.instanceIds) expect(mo(id)).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 2 });
    expect(h.sb.state.region('eu-west-1').launchTemplates.get(ng.launchTemplateId)!.tags.team).toBe('analytics');
    const v = await h.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: ng.launchTemplateId }));
    expect(v.LaunchTemplateVersions![0]!.LaunchTemplateData!.MetadataOptions).toMatchObject({
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 2,
    });
    const d = await h.eks.send(new DescribeNodegroupCommand({ clusterName: 'analytics', nodegroupName: ng.nodegroupName }));
    expect(d.nodegroup!.launchTemplate).toEqual({ id: ng.launchTemplateId, name: 'analytics-nodes', version: '1' });
  });

  it('has compliant Karpenter nodes, the two half-compliant self-managed nodes, a bastion and an exempt node', () => {
    expect(info.karpenterInstanceIds).toHaveLength(2);
    for (const id of info.karpenterInstanceIds) {
      expect(compliant(id)).toBe(true);
      expect(tags(id)).toMatchObject({
        'karpenter.sh/nodepool': 'default',
        'eks:eks-cluster-name': 'analytics',
        'kubernetes.io/cluster/analytics': 'owned',
      });
    }
    expect(mo(info.selfManaged.optionalHop1)).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 1 });
    expect(mo(info.selfManaged.requiredHop2)).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 2 });
    expect(tags(info.selfManaged.optionalHop1)['kubernetes.io/cluster/payments']).toBe('owned');
    expect(compliant(info.bastionInstanceId)).toBe(false);
    expect(Object.keys(tags(info.bastionInstanceId)).some((k) => k.startsWith('kubernetes.io/cluster/') || k.startsWith('eks:'))).toBe(
      false,
    );
    expect(tags(info.bastionInstanceId).Name).toBe('bastion');
    expect(compliant(info.exemptInstanceId)).toBe(false);
    expect(tags(info.exemptInstanceId)).toMatchObject({ 'imds-guard:exempt': 'true', 'kubernetes.io/cluster/payments': 'owned' });
  });

  it("has today's node groups: AL2023 and Bottlerocket compliant from EKS's template; Windows and eksctl not", async () => {
    const m = info.modernNodegroups;
    for (const ng of [m.al2023, m.bottlerocket, m.windows]) {
      expect(ng.instanceIds, ng.nodegroupName).toHaveLength(1);
      const d = await h.eks.send(new DescribeNodegroupCommand({ clusterName: 'payments', nodegroupName: ng.nodegroupName }));
      expect(d.nodegroup!.amiType).toBe(ng.amiType);
      expect(d.nodegroup!.launchTemplate).toBeUndefined();
      expect(tags(ng.instanceIds[0]!)['aws:ec2launchtemplate:id']).toBe(ng.launchTemplateId);
    }
    for (const id of [...m.al2023.instanceIds, ...m.bottlerocket.instanceIds]) expect(compliant(id)).toBe(true);
    expect(mo(m.windows.instanceIds[0]!)).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 2 });
    expect(m.eksctl.instanceIds).toHaveLength(2);
    for (const id of m.eksctl.instanceIds) {
      expect(mo(id)).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 2 });
      expect(tags(id)).toMatchObject({ 'alpha.eksctl.io/cluster-name': 'payments', 'kubernetes.io/cluster/payments': 'owned' });
    }
  });

  it('lists the 10 non-compliant, non-exempt EKS nodes', () => {
    expect(info.expectedNonCompliantNodes).toHaveLength(10);
    for (const id of info.expectedNonCompliantNodes) expect(compliant(id)).toBe(false);
    // payments-default 3, analytics-custom 2, Karpenter 2, self-managed 2, bastion, exempt; AL2023, Bottlerocket, Windows, eksctl 2.
    expect(byId.size).toBe(3 + 2 + 2 + 2 + 1 + 1 + 1 + 1 + 1 + 2);
  });
});
