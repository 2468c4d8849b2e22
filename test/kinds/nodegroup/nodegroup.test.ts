// The node group kind's verbs (find, evaluate, remediate, describe) and its enforce wiring, against the sandbox.
import { DescribeNodegroupCommand } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, beforeEach, describe as group, expect, it } from 'vitest';
import { enforceNodegroup, type NodegroupRun } from '../../../lib/kinds/nodegroup/enforce.js';
import { describe, evaluate, find, remediate } from '../../../lib/kinds/nodegroup/nodegroup.js';
import { harness, type Harness } from '../../helpers/sandbox.js';
import {
  ACCOUNT,
  createCluster,
  createNodegroup,
  createTemplate,
  eksCreatedTemplate,
  nodeData,
  policyFor,
  REGION,
  settings,
  templateOf,
  trigger,
  versions,
} from '../fixtures.js';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.sb.close());
beforeEach(async () => {
  h.sb.reset();
  await createCluster(h, 'c1');
});

const POLICY = { maxHopLimit: 1 };
const target = (nodegroup: string) => ({ cluster: 'c1', nodegroup, region: REGION, account: ACCOUNT });
const run = (rollout: boolean, env: Record<string, string> = {}): NodegroupRun => ({
  eks: h.eks,
  ec2: h.ec2,
  mode: 'enforce',
  rollout,
  settings: settings(env),
  policyFor,
});

/** A node group on a custom template whose version 1 allows IMDSv1 with hop limit 2. */
async function onCustomTemplate(name: string, tags: Record<string, string> = {}): Promise<string> {
  const id = await createTemplate(h, `lt-${name}`, nodeData('optional', 2));
  await createNodegroup(h, 'c1', name, { launchTemplate: { id, version: '1' }, tags });
  return id;
}
const pinned = async (name: string) =>
  (await h.eks.send(new DescribeNodegroupCommand({ clusterName: 'c1', nodegroupName: name }))).nodegroup!.launchTemplate?.version;

group('find', () => {
  it('a node group on a custom template: status, pinned version and the template', async () => {
    const id = await onCustomTemplate('custom', { owner: 'team-a' });
    const f = (await find(h.eks, h.ec2, target('custom')))!;
    expect(f.nodegroup).toMatchObject({ cluster: 'c1', name: 'custom', status: 'ACTIVE', tags: { owner: 'team-a' } });
    expect(f.nodegroup.launchTemplate).toMatchObject({ id, version: '1' });
    expect(f.pinnedVersion).toBe(1);
    expect(f.template!.template.id).toBe(id);
  });

  it('a node group without a template: the EKS-created one, found by its tags; a missing node group is undefined', async () => {
    await createNodegroup(h, 'c1', 'managed', { amiType: 'AL2_x86_64' });
    const f = (await find(h.eks, h.ec2, target('managed')))!;
    expect(f.nodegroup.launchTemplate).toBeUndefined();
    expect(f.template!.template.id).toBe(await eksCreatedTemplate(h, 'c1', 'managed'));
    expect(f.pinnedVersion).toBe(1);
    expect(await find(h.eks, h.ec2, target('nope'))).toBeUndefined();
  });
});

group('evaluate', () => {
  it('custom template: a fix from the pinned version; EKS-created: reported; compliant: compliant', async () => {
    await onCustomTemplate('custom');
    const d = evaluate((await find(h.eks, h.ec2, target('custom')))!, POLICY);
    expect(d).toMatchObject({ action: 'fix', fix: { sourceVersion: 1, makeDefault: true, metadataOptions: { httpTokens: 'required' } } });
    await createNodegroup(h, 'c1', 'managed', { amiType: 'AL2_x86_64' });
    const m = evaluate((await find(h.eks, h.ec2, target('managed')))!, POLICY);
    expect(m).toMatchObject({ action: 'report', reason: expect.stringContaining('EKS-created launch template') });
    const good = await createTemplate(h, 'lt-good', nodeData('required', 1));
    await createNodegroup(h, 'c1', 'good', { launchTemplate: { id: good, version: '1' } });
    expect(evaluate((await find(h.eks, h.ec2, target('good')))!, POLICY)).toMatchObject({ action: 'compliant' });
  });
});

group('remediate', () => {
  it('creates the compliant version; rolls out only when asked and ACTIVE', async () => {
    await onCustomTemplate('custom');
    const f = (await find(h.eks, h.ec2, target('custom')))!;
    const d = evaluate(f, POLICY);
    if (d.action !== 'fix') throw new Error(`expected a fix, got ${d.action}`);
    const r = await remediate(h.eks, h.ec2, f, d, false);
    expect(r).toMatchObject({ newVersion: 2, reused: false, madeDefault: true, rolledOut: false });
    expect(r.error).toBeUndefined();
    expect(await pinned('custom')).toBe('1');
    const again = (await find(h.eks, h.ec2, target('custom')))!;
    const d2 = evaluate(again, POLICY);
    if (d2.action !== 'fix') throw new Error(`expected a fix, got ${d2.action}`);
    expect(d2.fix.reuse).toBe(2);
    expect(await remediate(h.eks, h.ec2, again, d2, true)).toMatchObject({ newVersion: 2, reused: true, rolledOut: true });
    expect(await pinned('custom')).toBe('2');
  });
});

group('describe', () => {
  it('builds the audit record with the node group ARN and the owner from template and node group tags', () => {
    const ng = { cluster: 'c1', name: 'ng', tags: { team: 'payments' }, arn: 'arn:aws:eks:eu-west-1:111122223333:nodegroup/c1/ng/x' };
    const r = describe(
      { region: REGION, account: ACCOUNT, nodegroup: ng },
      settings(),
      { owner: 'from-template' },
      {
        trigger,
        mode: 'enforce',
        outcome: 'reported',
      },
    );
    expect(r.resource).toMatchObject({ type: 'nodegroup', id: 'ng', cluster: 'c1', nodegroup: 'ng', arn: ng.arn, owner: 'from-template' });
  });
});

group('enforceNodegroup', () => {
  it('custom template, ROLLOUT off: a compliant default version, the node group stays, the rollout command reported', async () => {
    const id = await onCustomTemplate('custom');
    const [r] = await enforceNodegroup(target('custom'), trigger, run(false));
    expect(r).toMatchObject({ outcome: 'reported', reason: expect.stringContaining('rollout is opt-in (ROLLOUT=true)') });
    expect(r!.details).toMatchObject({ newVersion: 2, madeDefault: true, rolledOut: false, status: 'ACTIVE' });
    expect(r!.reason).toContain(`--launch-template id=${id},version=2`);
    const vs = await versions(h, id);
    expect(vs[1]!.LaunchTemplateData!.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect((await templateOf(h, id)).DefaultVersionNumber).toBe(2);
    expect(await pinned('custom')).toBe('1');
  });

  it('custom template, ROLLOUT=true and ACTIVE: remediated, the node group moves to the new version', async () => {
    await onCustomTemplate('custom');
    const [r] = await enforceNodegroup(target('custom'), trigger, run(true));
    expect(r).toMatchObject({ outcome: 'remediated', reason: expect.stringMatching(/^rolling out launch template version 2 \(update /) });
    expect(r!.details).toMatchObject({ rolledOut: true, updateId: expect.any(String) });
    expect(await pinned('custom')).toBe('2');
  });

  it('ROLLOUT=true while CREATING: the version is made, the rollout waits for ACTIVE', async () => {
    h.sb.state.config.nodegroupStatus = 'CREATING';
    const id = await onCustomTemplate('creating');
    const [r] = await enforceNodegroup(target('creating'), trigger, run(true));
    expect(r).toMatchObject({
      outcome: 'reported',
      reason: expect.stringContaining('the rollout waits for the node group to be ACTIVE (it is CREATING)'),
    });
    expect(r!.details).toMatchObject({ newVersion: 2, rolledOut: false, rolloutWaiting: true, status: 'CREATING' });
    expect(await versions(h, id)).toHaveLength(2);
    expect(await pinned('creating')).toBe('1');
  });

  it('an EKS-created template: reported and not modified, even with ROLLOUT=true', async () => {
    await createNodegroup(h, 'c1', 'managed', { amiType: 'AL2_x86_64' });
    const id = await eksCreatedTemplate(h, 'c1', 'managed');
    const before = await versions(h, id);
    const [r] = await enforceNodegroup(target('managed'), trigger, run(true));
    expect(r).toMatchObject({ outcome: 'reported', reason: expect.stringContaining('EKS-created launch template') });
    expect(r!.details).toMatchObject({ launchTemplate: { id, eksManaged: true } });
    expect(await versions(h, id)).toEqual(before);
  });

  it('exempt by tag or cluster list: left alone', async () => {
    const id = await onCustomTemplate('exempt', { 'imds-guard:exempt': 'true' });
    expect((await enforceNodegroup(target('exempt'), trigger, run(true)))[0]).toMatchObject({ outcome: 'exempt' });
    await onCustomTemplate('listed');
    expect((await enforceNodegroup(target('listed'), trigger, run(true, { EXEMPT_CLUSTERS: 'c1' })))[0]).toMatchObject({
      outcome: 'exempt',
    });
    expect(await versions(h, id)).toHaveLength(1);
    expect(await pinned('listed')).toBe('1');
  });

  it('dry run: would-remediate, nothing created; a missing node group is gone', async () => {
    const id = await onCustomTemplate('custom');
    const [r] = await enforceNodegroup(target('custom'), trigger, { ...run(true), mode: 'dry-run' });
    expect(r).toMatchObject({
      outcome: 'would-remediate',
      reason: 'dry run: would create a compliant version from 1 and roll the node group onto it',
    });
    expect(await versions(h, id)).toHaveLength(1);
    expect((await enforceNodegroup(target('nope'), trigger, run(false)))[0]).toMatchObject({ outcome: 'gone' });
  });
});
