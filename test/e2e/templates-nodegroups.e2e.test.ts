// Issue 4 end to end: launch templates, node groups and the identity gate on the sandbox.
import { CreateLaunchTemplateCommand, DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, afterEach, beforeAll, describe as group, expect, it, vi } from 'vitest';
import * as ct from '../../sandbox/cloudtrail.js';
import { seedDemo, type DemoInfo } from '../../sandbox/scenarios/demo.js';
import { callCounter, describe, lambdaFor, options, sandboxIt, startTarget, type Target } from './harness.js';

let t: Target;
let demo: DemoInfo;
let w: ct.Where;
let eks: EKSClient;

beforeAll(async () => {
  t = await startTarget();
  demo = await seedDemo({ endpoint: t.endpoint, region: t.region });
  w = { region: t.region, account: demo.accountId };
  eks = new EKSClient({ region: t.region, endpoint: t.endpoint });
}, 60_000);
afterAll(() => t.close());
afterEach(() => vi.unstubAllEnvs());

async function versions(id: string) {
  const out = await t.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }));
  return out.LaunchTemplateVersions!.sort((a, b) => a.VersionNumber! - b.VersionNumber!);
}
async function template(id: string) {
  return (await t.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }))).LaunchTemplates![0]!;
}

group('node groups and launch templates', () => {
  it('a node group on a non-compliant custom template: a compliant default version, and the rollout command in the report', async () => {
    const ng = demo.nodegroups.analyticsCustom;
    const run = await lambdaFor(t, 'enforce-nodegroups', { IDENTITY_GATE: 'off' });
    const res = await run(ct.createNodegroup(ng.clusterName, ng.nodegroupName, w, { id: ng.launchTemplateId, version: '1' }));
    expect(res.decisions).toEqual([expect.objectContaining({ type: 'nodegroup', id: ng.nodegroupName, outcome: 'reported' })]);
    const vs = await versions(ng.launchTemplateId);
    const fixed = vs[vs.length - 1]!;
    expect(fixed.LaunchTemplateData!.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(fixed.VersionDescription).toMatch(/^imds-guard: .*from version 1/);
    // Every other field came from the source version.
    expect(fixed.LaunchTemplateData!.ImageId).toBe(vs[0]!.LaunchTemplateData!.ImageId);
    expect(fixed.LaunchTemplateData!.TagSpecifications).toEqual(vs[0]!.LaunchTemplateData!.TagSpecifications);
    expect((await template(ng.launchTemplateId)).DefaultVersionNumber).toBe(fixed.VersionNumber);
    // Without ROLLOUT the node group stays where it was.
    const desc = await eks.send(new DescribeNodegroupCommand({ clusterName: ng.clusterName, nodegroupName: ng.nodegroupName }));
    expect(desc.nodegroup!.launchTemplate!.version).toBe('1');
    expect(res.decisions[0].reason).toContain(`aws eks update-nodegroup-version --region ${t.region} --cluster-name ${ng.clusterName} --nodegroup-name ${ng.nodegroupName} --launch-template id=${ng.launchTemplateId},version=${fixed.VersionNumber}`);
  });

  it('ROLLOUT=true moves the node group to the compliant version (reusing it, not creating another)', async () => {
    const ng = demo.nodegroups.analyticsCustom;
    const before = (await versions(ng.launchTemplateId)).length;
    const run = await lambdaFor(t, 'enforce-nodegroups', { IDENTITY_GATE: 'off', ROLLOUT: 'true' });
    const res = await run(ct.createNodegroup(ng.clusterName, ng.nodegroupName, w, { id: ng.launchTemplateId, version: '1' }));
    expect(res.decisions[0]).toMatchObject({ outcome: 'remediated' });
    expect((await versions(ng.launchTemplateId)).length).toBe(before);
    const desc = await eks.send(new DescribeNodegroupCommand({ clusterName: ng.clusterName, nodegroupName: ng.nodegroupName }));
    expect(desc.nodegroup!.launchTemplate!.version).toBe(String(before));
  });

  it('an EKS-created template is left untouched and reported with the recommended fix', async () => {
    const ng = demo.nodegroups.paymentsDefault;
    const before = await versions(ng.launchTemplateId);
    const run = await lambdaFor(t, 'enforce-nodegroups', { IDENTITY_GATE: 'off', ROLLOUT: 'true' });
    const res = await run(ct.createNodegroup(ng.clusterName, ng.nodegroupName, w));
    expect(res.decisions[0]).toMatchObject({ outcome: 'reported', reason: expect.stringContaining('EKS-created launch template') });
    expect(await versions(ng.launchTemplateId)).toEqual(before);
    // The template event path refuses it too.
    const lt = await lambdaFor(t, 'enforce-launch-templates', { IDENTITY_GATE: 'off' });
    const tpl = await template(ng.launchTemplateId);
    const r2 = await lt(ct.createLaunchTemplate(ng.launchTemplateId, tpl.LaunchTemplateName!, w));
    expect(r2.decisions[0]).toMatchObject({ outcome: 'reported' });
    expect(await versions(ng.launchTemplateId)).toEqual(before);
  });

  it('CreateLaunchTemplate: scope eks skips a template no EKS node uses; scope all fixes it', async () => {
    const created = await t.ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: `web-${Date.now()}`, LaunchTemplateData: { ImageId: 'ami-1', MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'enabled' } } }),
    );
    const { LaunchTemplateId: id, LaunchTemplateName: name } = created.LaunchTemplate!;
    const eksOnly = await lambdaFor(t, 'enforce-launch-templates', { IDENTITY_GATE: 'off' });
    expect((await eksOnly(ct.createLaunchTemplate(id!, name!, w))).decisions[0]).toMatchObject({ outcome: 'out-of-scope' });
    const all = await lambdaFor(t, 'enforce-launch-templates', { IDENTITY_GATE: 'off', SCOPE: 'all' });
    expect((await all(ct.createLaunchTemplate(id!, name!, w))).decisions[0]).toMatchObject({ outcome: 'remediated' });
    const vs = await versions(id!);
    expect(vs).toHaveLength(2);
    // Fields outside the policy keep their state.
    expect(vs[1]!.LaunchTemplateData!.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'enabled' });
  });
});

group('IDENTITY_GATE on a cluster with neither IRSA nor Pod Identity', () => {
  let nodes: string[] = [];
  beforeAll(async () => {
    await eks.send(new CreateClusterCommand({ name: 'bare', roleArn: 'arn:aws:iam::111122223333:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1'] } }));
    const out = await t.ec2.send(
      new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 3, MaxCount: 3, MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 }, TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'kubernetes.io/cluster/bare', Value: 'owned' }] }] }),
    );
    nodes = out.Instances!.map((i) => i.InstanceId!);
  });
  const one = async (gate: string, i: number) => {
    const run = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: gate });
    const calls = callCounter(t);
    const id = nodes[i]!;
    const res = await run(ct.runInstances([(await describe(t, [id])).get(id)!], 'user', w));
    return { res, id, calls: calls.since(), after: options((await describe(t, [id])).get(id)), record: t.sandbox ? JSON.parse(t.sandbox.messages().at(-1)!.bodies.default!).records[0] : undefined };
  };

  it('warn: enforces fully and tells the owner that pods lose the node role', async () => {
    const { after, record } = await one('warn', 0);
    expect(after).toEqual(['required', 1]);
    if (record) expect(record.notes[0]).toMatch(/no IRSA and no Pod Identity.*lose/);
    if (record) expect(record.details.identity).toMatchObject({ cluster: 'bare', irsa: false, podIdentityAgent: false });
  });
  it('hold: requires tokens but keeps the hop limit', async () => {
    const { after, record } = await one('hold', 1);
    expect(after).toEqual(['required', 2]);
    if (record) expect(record.notes[0]).toMatch(/IDENTITY_GATE=hold/);
  });
  sandboxIt('off: no identity check at all', async () => {
    const { after, calls, record } = await one('off', 2);
    expect(after).toEqual(['required', 1]);
    expect(calls.DescribeCluster ?? 0).toBe(0);
    expect(record.notes).toBeUndefined();
  });
  it('a cluster with IRSA gets no note', async () => {
    const run = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: 'hold' });
    const id = demo.selfManaged.optionalHop1;
    const inst = (await describe(t, [id])).get(id)!;
    await run(ct.runInstances([inst], 'user', w));
    // payments has IRSA: hold does not apply, the hop limit is enforced.
    expect(options((await describe(t, [id])).get(id))).toEqual(['required', 1]);
  });
});
