// Per-add-on identity on the sandbox: each add-on known to break at hop limit 1, installed with and without its own
// identity (an add-on serviceAccountRoleArn or a Pod Identity association), through identityReadiness and the gate.
import { CreateAddonCommand, CreateClusterCommand, CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateOpenIDConnectProviderCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_ADDONS } from '../../lib/domain/addons.js';
import { gatePolicy } from '../../lib/domain/identity.js';
import { identityReadiness } from '../../lib/shell/identity-readiness.js';
import { harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
let n = 0;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.sb.close());

const policy = { maxHopLimit: 1 };
const role = (name: string) => `arn:aws:iam::111122223333:role/${name}`;

/** A cluster with IRSA registered, so the cluster itself is ready and only the add-on decides. */
async function readyCluster(): Promise<string> {
  const name = `c${++n}`;
  const { cluster } = await h.eks.send(
    new CreateClusterCommand({ name, roleArn: role('eks'), resourcesVpcConfig: { subnetIds: ['subnet-1'] } }),
  );
  await h.iam.send(new CreateOpenIDConnectProviderCommand({ Url: cluster!.identity!.oidc!.issuer!, ClientIDList: ['sts.amazonaws.com'] }));
  return name;
}

const eksAddons = KNOWN_ADDONS.filter((a) => a.eksAddon && !a.hostNetwork).map((a) => a.name);
const helmOnly = KNOWN_ADDONS.filter((a) => !a.eksAddon);

describe.each(eksAddons)('EKS add-on %s', (addon) => {
  it('with its own serviceAccountRoleArn: no warning, hold holds nothing', async () => {
    const c = await readyCluster();
    await h.eks.send(new CreateAddonCommand({ clusterName: c, addonName: addon, serviceAccountRoleArn: role(`${addon}-irsa`) }));
    const r = await identityReadiness(h.eks, h.iam, c);
    expect(r.addons?.find((a) => a.name === addon)).toEqual({ name: addon, status: 'own-identity', via: 'serviceAccountRoleArn' });
    expect(gatePolicy(policy, 'warn', r).notes).toEqual([]);
    expect(gatePolicy(policy, 'hold', r).policy).toEqual(policy);
  });

  it('with a Pod Identity association for its service account: no warning, hold holds nothing', async () => {
    const c = await readyCluster();
    await h.eks.send(new CreateAddonCommand({ clusterName: c, addonName: addon }));
    const sa = KNOWN_ADDONS.find((a) => a.name === addon)!.serviceAccounts[0]!;
    await h.eks.send(new CreatePodIdentityAssociationCommand({ clusterName: c, ...sa, roleArn: role(`${addon}-pi`) }));
    const r = await identityReadiness(h.eks, h.iam, c);
    expect(r.addons?.find((a) => a.name === addon)).toMatchObject({ status: 'own-identity', via: 'pod-identity' });
    expect(gatePolicy(policy, 'hold', r)).toMatchObject({ policy, notes: [] });
  });

  it('without an identity: the record and the note name it, and only then hold keeps the hop limit', async () => {
    const c = await readyCluster();
    await h.eks.send(new CreateAddonCommand({ clusterName: c, addonName: addon }));
    const r = await identityReadiness(h.eks, h.iam, c);
    expect(r.addons?.find((a) => a.name === addon)).toEqual({ name: addon, status: 'no-identity' });
    const warn = gatePolicy(policy, 'warn', r);
    expect(warn.policy).toEqual(policy);
    expect(warn.details).toMatchObject({ addonsLosingCredentials: [addon] });
    expect(warn.notes.join(' ')).toContain(`${addon} has no identity of its own and will lose the node role's credentials at hop limit 1`);
    expect(gatePolicy(policy, 'hold', r).policy).toEqual({ ...policy, holdHopLimit: true });
  });
});

describe('vpc-cni (aws-node runs with hostNetwork)', () => {
  it('without its own identity it is recorded, but hop limit 1 does not cut it off: no hold', async () => {
    const c = await readyCluster();
    await h.eks.send(new CreateAddonCommand({ clusterName: c, addonName: 'vpc-cni' }));
    const r = await identityReadiness(h.eks, h.iam, c);
    expect(r.addons?.find((a) => a.name === 'vpc-cni')).toEqual({ name: 'vpc-cni', status: 'no-identity', hostNetwork: true });
    expect(gatePolicy(policy, 'hold', r)).toMatchObject({ policy, notes: [] });
  });
});

describe.each(helmOnly.map((a) => [a.name, a] as const))('Helm-installed controller %s', (name, a) => {
  it('a Pod Identity association for its service account counts as its own identity', async () => {
    const c = await readyCluster();
    await h.eks.send(new CreatePodIdentityAssociationCommand({ clusterName: c, ...a.serviceAccounts.at(-1)!, roleArn: role(name) }));
    const r = await identityReadiness(h.eks, h.iam, c);
    expect(r.addons?.find((x) => x.name === name)).toEqual({ name, status: 'own-identity', via: 'pod-identity' });
  });

  it('without one it is "not visible" (its IRSA annotation cannot be seen from the EKS API), never "missing": no hold', async () => {
    const c = await readyCluster();
    const r = await identityReadiness(h.eks, h.iam, c);
    expect(r.addons?.find((x) => x.name === name)).toEqual({ name, status: 'not-visible' });
    expect(gatePolicy(policy, 'hold', r)).toMatchObject({ policy, notes: [] });
  });
});

describe('one failed DescribeAddon', () => {
  it("leaves only that add-on unknown (and held for), keeping the others' answers", async () => {
    const c = await readyCluster();
    await h.eks.send(new CreateAddonCommand({ clusterName: c, addonName: 'aws-ebs-csi-driver', serviceAccountRoleArn: role('ebs') }));
    await h.eks.send(new CreateAddonCommand({ clusterName: c, addonName: 'aws-efs-csi-driver' }));
    await h.eks.send(new CreateAddonCommand({ clusterName: c, addonName: 'amazon-cloudwatch-observability' }));
    // The sandbox's EKS (a real client, so the SDK's paginators take it), except that DescribeAddon of one
    // add-on is throttled, by a middleware in front of the wire.
    const flaky = new EKSClient(h.cfg);
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { addonName?: string };
        if (context.commandName === 'DescribeAddonCommand' && input.addonName === 'amazon-cloudwatch-observability')
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return next(args);
      },
      { step: 'initialize', name: 'throttleOneAddon' },
    );
    const r = await identityReadiness(flaky, h.iam, c);
    expect(r.addons?.filter((a) => a.name.startsWith('a') && a.name !== 'aws-load-balancer-controller')).toEqual([
      { name: 'aws-ebs-csi-driver', status: 'own-identity', via: 'serviceAccountRoleArn' },
      { name: 'aws-efs-csi-driver', status: 'no-identity' },
      { name: 'amazon-cloudwatch-observability', status: 'unknown', error: 'ThrottlingException: Rate exceeded' },
    ]);
    expect(r.error).toBe('ThrottlingException: Rate exceeded (DescribeAddon amazon-cloudwatch-observability)');
    const g = gatePolicy(policy, 'hold', r);
    expect(g.policy.holdHopLimit).toBe(true);
    expect(g.notes).toEqual([
      'cluster ' +
        c +
        ": aws-efs-csi-driver has no identity of its own and will lose the node role's credentials at hop limit 1; " +
        'give each an IRSA role (serviceAccountRoleArn) or a Pod Identity association.',
      `cluster ${c}: could not check the identity of amazon-cloudwatch-observability; treated as at risk.`,
      `cluster ${c}: IDENTITY_GATE=hold kept the hop limit and only required tokens until they have their own identity.`,
    ]);
  });
});

describe('more than one page (100) of Pod Identity associations', () => {
  it('an add-on whose association is on the second page still has its own identity, and every association counts', async () => {
    const c = await readyCluster();
    const addon = eksAddons[0]!;
    await h.eks.send(new CreateAddonCommand({ clusterName: c, addonName: addon }));
    for (let i = 0; i < 120; i++)
      await h.eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: c,
          namespace: 'apps',
          serviceAccount: `app-${i}`,
          roleArn: role(`app-${i}`),
        }),
      );
    // Created last: in the sandbox's (creation) order it is on page 2.
    const sa = KNOWN_ADDONS.find((a) => a.name === addon)!.serviceAccounts[0]!;
    await h.eks.send(new CreatePodIdentityAssociationCommand({ clusterName: c, ...sa, roleArn: role(`${addon}-pi`) }));
    const r = await identityReadiness(h.eks, h.iam, c);
    expect(r.podIdentityAssociations).toBe(121);
    expect(r.addons?.find((a) => a.name === addon)).toMatchObject({ status: 'own-identity', via: 'pod-identity' });
    expect(gatePolicy(policy, 'hold', r).policy).toEqual(policy);
  });
});
