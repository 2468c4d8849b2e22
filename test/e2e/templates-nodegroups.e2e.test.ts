// Issue 4 end to end: launch templates, node groups and the identity gate on the sandbox.
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateNodegroupCommand, DescribeNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, afterEach, beforeAll, describe as group, expect, it, vi } from 'vitest';
import * as ct from '../../sandbox/cloudtrail.js';
import { seedDemo, type DemoInfo } from '../../sandbox/scenarios/demo.js';
import { launchInstances } from '../helpers/launch.js';
import {
  callCounter,
  describe,
  e2eTarget,
  lambdaFor,
  motoLacksIt,
  options,
  publishedRecords,
  sandboxIt,
  startTarget,
  type Target,
} from '../helpers/sandbox.js';

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
  motoLacksIt('SourceVersion merge on CreateLaunchTemplateVersion')(
    'a node group on a non-compliant custom template: a compliant default version, and the rollout command in the report',
    async () => {
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
      expect(res.decisions[0].reason).toContain(
        `aws eks update-nodegroup-version --region ${t.region} --cluster-name ${ng.clusterName} --nodegroup-name ${ng.nodegroupName} --launch-template id=${ng.launchTemplateId},version=${fixed.VersionNumber}`,
      );
    },
  );

  motoLacksIt('UpdateNodegroupVersion')(
    'ROLLOUT=true moves the node group to the compliant version (reusing it, not creating another)',
    async () => {
      const ng = demo.nodegroups.analyticsCustom;
      const before = (await versions(ng.launchTemplateId)).length;
      const run = await lambdaFor(t, 'enforce-nodegroups', { IDENTITY_GATE: 'off', ROLLOUT: 'true' });
      const res = await run(ct.createNodegroup(ng.clusterName, ng.nodegroupName, w, { id: ng.launchTemplateId, version: '1' }));
      expect(res.decisions[0]).toMatchObject({ outcome: 'remediated' });
      expect((await versions(ng.launchTemplateId)).length).toBe(before);
      const desc = await eks.send(new DescribeNodegroupCommand({ clusterName: ng.clusterName, nodegroupName: ng.nodegroupName }));
      expect(desc.nodegroup!.launchTemplate!.version).toBe(String(before));
    },
  );

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
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `web-${Date.now()}`,
        LaunchTemplateData: {
          ImageId: 'ami-1',
          MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'enabled' },
        },
      }),
    );
    const { LaunchTemplateId: id, LaunchTemplateName: name } = created.LaunchTemplate!;
    const eksOnly = await lambdaFor(t, 'enforce-launch-templates', { IDENTITY_GATE: 'off' });
    expect((await eksOnly(ct.createLaunchTemplate(id!, name!, w))).decisions[0]).toMatchObject({ outcome: 'out-of-scope' });
    const all = await lambdaFor(t, 'enforce-launch-templates', { IDENTITY_GATE: 'off', SCOPE: 'all' });
    expect((await all(ct.createLaunchTemplate(id!, name!, w))).decisions[0]).toMatchObject({ outcome: 'remediated' });
    const vs = await versions(id!);
    expect(vs).toHaveLength(2);
    // Fields outside the policy keep their state.
    expect(vs[1]!.LaunchTemplateData!.MetadataOptions).toMatchObject({
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 1,
      InstanceMetadataTags: 'enabled',
    });
  });
});

const BAD = { HttpTokens: 'optional' as const, HttpPutResponseHopLimit: 2 };
const GOOD = { HttpTokens: 'required' as const, HttpPutResponseHopLimit: 1 };
let seq = 0;

/** A template whose versions carry `data` in order (version 1 stays the default). */
async function templateWith(data: RequestLaunchTemplateData[]) {
  const name = `lt-e2e-${Date.now()}-${seq++}`;
  const out = await t.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: name, LaunchTemplateData: data[0] }));
  const id = out.LaunchTemplate!.LaunchTemplateId!;
  for (const d of data.slice(1)) await t.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: d }));
  return { id, name };
}
const shape = async (id: string) =>
  (await versions(id)).map((v) => [v.VersionNumber, v.LaunchTemplateData!.ImageId, v.LaunchTemplateData!.MetadataOptions?.HttpTokens]);
const pointers = async (id: string) => {
  const x = await template(id);
  return { default: x.DefaultVersionNumber, latest: x.LatestVersionNumber };
};
/** The records of the last published report (sandbox only). */
const published = () => JSON.parse(t.sandbox!.messages().at(-1)!.bodies.default!).records as any[];

async function nodegroupOn(name: string, lt: { id: string; version: string }, status = 'ACTIVE') {
  if (t.sandbox) t.sandbox.state.config.nodegroupStatus = status;
  try {
    await eks.send(
      new CreateNodegroupCommand({
        clusterName: 'analytics',
        nodegroupName: name,
        nodeRole: `arn:aws:iam::${demo.accountId}:role/eks-node`,
        subnets: ['subnet-0a1b2c3d4e5f60001'],
        scalingConfig: { minSize: 1, maxSize: 1, desiredSize: 1 },
        launchTemplate: lt,
      }),
    );
  } finally {
    if (t.sandbox) t.sandbox.state.config.nodegroupStatus = 'ACTIVE';
  }
}
const pinnedOf = async (name: string) =>
  (await eks.send(new DescribeNodegroupCommand({ clusterName: 'analytics', nodegroupName: name }))).nodegroup!.launchTemplate!.version;

group('new versions keep $Latest, survive deleted versions and retries', () => {
  motoLacksIt('SourceVersion merge on CreateLaunchTemplateVersion')(
    "a bad default older than a good latest: the default is fixed, and $Latest still has the latest's content",
    async () => {
      const { id, name } = await templateWith([
        { ImageId: 'ami-old', MetadataOptions: BAD },
        { ImageId: 'ami-new', MetadataOptions: GOOD },
      ]);
      const run = await lambdaFor(t, 'enforce-launch-templates', { IDENTITY_GATE: 'off', SCOPE: 'all' });
      const res = await run(ct.createLaunchTemplate(id, name, w));
      expect(res.decisions).toEqual([
        expect.objectContaining({
          outcome: 'remediated',
          reason: 'created version 3 from version 1 and made it the default; version 4 repeats version 2 so $Latest keeps its content',
        }),
      ]);
      expect(await shape(id)).toEqual([
        [1, 'ami-old', 'optional'],
        [2, 'ami-new', 'required'],
        [3, 'ami-old', 'required'],
        [4, 'ami-new', 'required'],
      ]);
      const vs = await versions(id);
      expect(vs[3]!.LaunchTemplateData).toEqual(vs[1]!.LaunchTemplateData);
      expect(await pointers(id)).toEqual({ default: 3, latest: 4 });
      if (t.sandbox)
        expect(published()[0].details).toMatchObject({
          sourceVersion: 1,
          newVersion: 3,
          madeDefault: true,
          latestCopy: { sourceVersion: 2, newVersion: 4 },
        });
      // Nothing left to change (the event names version 1, which stays as it was).
      expect((await run(ct.createLaunchTemplate(id, name, w))).decisions[0]).toMatchObject({
        outcome: 'reported',
        reason: expect.stringContaining('neither default nor latest'),
      });
      expect(await versions(id)).toHaveLength(4);
    },
  );

  sandboxIt('dry run with a bad default and a bad latest: two records with their own ids, and nothing created', async () => {
    const { id, name } = await templateWith([
      { ImageId: 'ami-old', MetadataOptions: BAD },
      { ImageId: 'ami-new', MetadataOptions: BAD },
    ]);
    const run = await lambdaFor(t, 'enforce-launch-templates', { IDENTITY_GATE: 'off', SCOPE: 'all', MODE: 'dry-run' });
    const res = await run(ct.createLaunchTemplate(id, name, w));
    expect(res.decisions.map((d: any) => d.outcome)).toEqual(['would-remediate', 'would-remediate']);
    const records = published();
    expect(records.map((r) => r.details.sourceVersion)).toEqual([1, 2]);
    expect(new Set(records.map((r) => r.id)).size).toBe(2);
    expect(await versions(id)).toHaveLength(2);
  });

  sandboxIt('ModifyLaunchTemplate fails: the failed record names the new versions, and the retry reuses them', async () => {
    const { id, name } = await templateWith([
      { ImageId: 'ami-old', MetadataOptions: BAD },
      { ImageId: 'ami-new', MetadataOptions: GOOD },
    ]);
    const run = await lambdaFor(t, 'enforce-launch-templates', { IDENTITY_GATE: 'off', SCOPE: 'all', MAX_ATTEMPTS: '1' });
    t.sandbox!.setFaults({ errors: { ModifyLaunchTemplate: { rate: 1, kind: '5xx' } } });
    let res: Awaited<ReturnType<typeof run>>;
    try {
      res = await run(ct.createLaunchTemplate(id, name, w));
    } finally {
      t.sandbox!.setFaults({});
    }
    expect(res.decisions[0]).toMatchObject({ outcome: 'failed' });
    expect(published()[0].details).toMatchObject({ newVersion: 3, madeDefault: false, latestCopy: { sourceVersion: 2, newVersion: 4 } });
    expect(await pointers(id)).toEqual({ default: 1, latest: 4 });
    const again = await run(ct.createLaunchTemplate(id, name, w));
    expect(again.decisions[0]).toMatchObject({
      outcome: 'remediated',
      reason: 'made version 3 (made from version 1 by an earlier run) the default',
    });
    expect(await pointers(id)).toEqual({ default: 3, latest: 4 });
  });

  motoLacksIt('SourceVersion merge on CreateLaunchTemplateVersion')(
    'a run cut off before copying the latest: the retry reuses its fix and repeats the buried latest',
    async () => {
      const { id, name } = await templateWith([
        { ImageId: 'ami-old', MetadataOptions: BAD },
        { ImageId: 'ami-new', MetadataOptions: GOOD },
      ]);
      // What the interrupted run left: its fix of version 1 is $Latest.
      await t.ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: id,
          SourceVersion: '1',
          VersionDescription: 'imds-guard: MetadataOptions fixed from version 1 (HttpTokens=required, hop limit <= 1)',
          LaunchTemplateData: { MetadataOptions: GOOD },
        }),
      );
      const run = await lambdaFor(t, 'enforce-launch-templates', { IDENTITY_GATE: 'off', SCOPE: 'all' });
      expect((await run(ct.createLaunchTemplate(id, name, w))).decisions[0]).toMatchObject({ outcome: 'remediated' });
      expect(await shape(id)).toEqual([
        [1, 'ami-old', 'optional'],
        [2, 'ami-new', 'required'],
        [3, 'ami-old', 'required'],
        [4, 'ami-new', 'required'],
      ]);
      expect(await pointers(id)).toEqual({ default: 3, latest: 4 });
    },
  );

  motoLacksIt('DeleteLaunchTemplateVersions and SourceVersion merge')(
    'a node group pinned below a deleted version and a newer latest: evaluated, fixed, and $Latest keeps its content',
    async () => {
      const { id } = await templateWith([
        { ImageId: 'ami-1', InstanceType: 'm6i.large', MetadataOptions: BAD },
        { ImageId: 'ami-2', InstanceType: 'm6i.large', MetadataOptions: BAD },
        { ImageId: 'ami-3', InstanceType: 'm6i.large', MetadataOptions: GOOD },
      ]);
      await nodegroupOn('deleted-middle', { id, version: '1' });
      await t.ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['2'] }));
      const run = await lambdaFor(t, 'enforce-nodegroups', { IDENTITY_GATE: 'off' });
      const res = await run(ct.createNodegroup('analytics', 'deleted-middle', w, { id, version: '1' }));
      expect(res.decisions[0]).toMatchObject({
        outcome: 'reported',
        reason: expect.stringContaining('version 4 is ready; version 5 repeats version 3 so $Latest keeps its content'),
      });
      expect(await shape(id)).toEqual([
        [1, 'ami-1', 'optional'],
        [3, 'ami-3', 'required'],
        [4, 'ami-1', 'required'],
        [5, 'ami-3', 'required'],
      ]);
      expect(await pointers(id)).toEqual({ default: 4, latest: 5 });
      // The next event reuses version 4.
      expect((await run(ct.createNodegroup('analytics', 'deleted-middle', w, { id, version: '1' }))).decisions[0].reason).toContain(
        'version 4 is ready',
      );
      expect(await versions(id)).toHaveLength(4);
    },
  );

  sandboxIt('CreateNodegroup while CREATING: the version is made now; with ROLLOUT the rollout waits for ACTIVE', async () => {
    const { id } = await templateWith([{ ImageId: 'ami-1', InstanceType: 'm6i.large', MetadataOptions: BAD }]);
    await nodegroupOn('still-creating', { id, version: '1' }, 'CREATING');
    const run = await lambdaFor(t, 'enforce-nodegroups', { IDENTITY_GATE: 'off', ROLLOUT: 'true' });
    const calls = callCounter(t);
    const res = await run(ct.createNodegroup('analytics', 'still-creating', w, { id, version: '1' }));
    const command = `aws eks update-nodegroup-version --region ${t.region} --cluster-name analytics --nodegroup-name still-creating --launch-template id=${id},version=2`;
    expect(res.decisions[0]).toMatchObject({
      outcome: 'reported',
      reason: `compliant launch template version 2 is ready; the rollout waits for the node group to be ACTIVE (it is CREATING). Run: ${command}`,
    });
    expect(published()[0].details).toMatchObject({
      newVersion: 2,
      rolledOut: false,
      rolloutWaiting: true,
      rolloutCommand: command,
      status: 'CREATING',
    });
    expect(calls.since().UpdateNodegroupVersion ?? 0).toBe(0);
    expect(await shape(id)).toEqual([
      [1, 'ami-1', 'optional'],
      [2, 'ami-1', 'required'],
    ]);
    expect(await pinnedOf('still-creating')).toBe('1');
    // Once ACTIVE, the next event rolls the node group onto the same version.
    t.sandbox!.state.region(t.region).clusters.get('analytics')!.nodegroups.get('still-creating')!.status = 'ACTIVE';
    expect((await run(ct.createNodegroup('analytics', 'still-creating', w, { id, version: '1' }))).decisions[0]).toMatchObject({
      outcome: 'remediated',
    });
    expect(await pinnedOf('still-creating')).toBe('2');
    expect(await versions(id)).toHaveLength(2);
  });

  sandboxIt('node group: ModifyLaunchTemplate fails, and the failed record still names the created version', async () => {
    const { id } = await templateWith([{ ImageId: 'ami-1', InstanceType: 'm6i.large', MetadataOptions: BAD }]);
    await nodegroupOn('default-fails', { id, version: '1' });
    const run = await lambdaFor(t, 'enforce-nodegroups', { IDENTITY_GATE: 'off', MAX_ATTEMPTS: '1' });
    t.sandbox!.setFaults({ errors: { ModifyLaunchTemplate: { rate: 1, kind: '5xx' } } });
    let res: Awaited<ReturnType<typeof run>>;
    try {
      res = await run(ct.createNodegroup('analytics', 'default-fails', w, { id, version: '1' }));
    } finally {
      t.sandbox!.setFaults({});
    }
    expect(res.decisions[0]).toMatchObject({ outcome: 'failed', reason: 'version 2 is ready, but could not be made the default' });
    expect(published()[0].details).toMatchObject({ newVersion: 2, madeDefault: false });
    const again = await run(ct.createNodegroup('analytics', 'default-fails', w, { id, version: '1' }));
    expect(again.decisions[0]).toMatchObject({ outcome: 'reported', reason: expect.stringContaining('version 2 is ready') });
    expect(await pointers(id)).toEqual({ default: 2, latest: 2 });
  });
});

group('IDENTITY_GATE on a cluster with neither IRSA nor Pod Identity', () => {
  let nodes: string[] = [];
  beforeAll(async () => {
    await eks.send(
      new CreateClusterCommand({
        name: 'bare',
        roleArn: 'arn:aws:iam::111122223333:role/eks',
        resourcesVpcConfig: { subnetIds: ['subnet-1'] },
      }),
    );
    const out = await launchInstances(t.ec2, 3, 'optional', 2, { 'kubernetes.io/cluster/bare': 'owned' });
    nodes = out.map((i) => i.InstanceId!);
  });
  const one = async (gate: string, i: number) => {
    const run = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: gate });
    const calls = callCounter(t);
    const id = nodes[i]!;
    const res = await run(ct.runInstances([(await describe(t, [id])).get(id)!], 'user', w));
    return {
      res,
      id,
      calls: calls.since(),
      after: options((await describe(t, [id])).get(id)),
      record: t.sandbox ? JSON.parse(t.sandbox.messages().at(-1)!.bodies.default!).records[0] : undefined,
    };
  };

  it('warn: enforces fully and tells the owner that pods lose the node role', async () => {
    const { after, record } = await one('warn', 0);
    expect(after).toEqual(['required', 1]);
    if (record) expect(record.notes[0]).toMatch(/no IRSA and no Pod Identity.*lose/);
    if (record) expect(record.details.identity).toMatchObject({ cluster: 'bare', irsa: false, podIdentityAgent: false });
  });
  motoLacksIt('ListAddons and ListPodIdentityAssociations')('hold: requires tokens but keeps the hop limit', async () => {
    const { after, record } = await one('hold', 1);
    expect(after).toEqual(['required', 2]);
    if (record) expect(record.notes[0]).toMatch(/IDENTITY_GATE=hold/);
  });
  // moto lacks both identity APIs: the product's handling of their failure is what this checks there.
  it.runIf(e2eTarget === 'moto')(
    'moto lacks ListAddons and ListPodIdentityAssociations: the record names both failed calls, and IRSA still answers',
    async () => {
      const records = await publishedRecords(t);
      const { res, id } = await one('hold', 1);
      expect(res.decisions).toEqual([expect.objectContaining({ id, outcome: 'remediated' })]);
      const record = (await records()).find((r) => r.resource.id === id);
      expect(record.details.identity).toMatchObject({
        cluster: 'bare',
        error: expect.stringMatching(/\(ListAddons\).*\(ListPodIdentityAssociations\)/),
      });
      // moto gives every cluster the same OIDC issuer (docs/sandbox.md), so `bare` shares payments' IRSA: hold does not apply.
      expect(record.details.identity.irsa).toBe(true);
      expect(record.after).toMatchObject({ httpTokens: 'required', hopLimit: 1 });
    },
  );
  sandboxIt('off: no identity check at all', async () => {
    const { after, calls, record } = await one('off', 2);
    expect(after).toEqual(['required', 1]);
    // No identity call at all (DescribeCluster may still run once, for the cluster's owner tags).
    for (const call of ['ListAddons', 'ListPodIdentityAssociations', 'ListOpenIDConnectProviders']) expect(calls[call] ?? 0, call).toBe(0);
    expect(calls.DescribeCluster ?? 0).toBeLessThanOrEqual(1);
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
