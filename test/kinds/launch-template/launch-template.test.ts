// The launch template kind's verbs (find, evaluate, remediate, describe) and its enforce wiring, against the sandbox.
import { afterAll, beforeAll, beforeEach, describe as group, expect, it } from 'vitest';
import { enforceTemplate, type TemplateRun } from '../../../lib/kinds/launch-template/enforce.js';
import { describe, evaluate, find, remediate } from '../../../lib/kinds/launch-template/launch-template.js';
import { harness, type Harness } from '../../helpers/sandbox.js';
import {
  ACCOUNT,
  addVersion,
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
beforeEach(() => h.sb.reset());

const POLICY = { maxHopLimit: 1 };
const ref = (id: string) => ({ id, region: REGION, account: ACCOUNT });
const runIn = (mode: TemplateRun['mode'], env: Record<string, string> = {}): TemplateRun => ({
  ec2: h.ec2,
  mode,
  settings: settings(env),
  policyFor,
  usedBy: async () => [],
});
const enforce = (id: string, mode: TemplateRun['mode'] = 'enforce', env: Record<string, string> = {}) =>
  enforceTemplate({ launchTemplateId: id, region: REGION, account: ACCOUNT }, trigger, runIn(mode, env));

group('find', () => {
  it('returns the template with its default and latest versions, and undefined for a missing one', async () => {
    const id = await createTemplate(h, 'nodes', nodeData('optional', 2), { owner: 'team-a' });
    await addVersion(h, id, nodeData('required', 1));
    const f = await find(h.ec2, ref(id));
    expect(f).toMatchObject({ region: REGION, account: ACCOUNT, template: { id, name: 'nodes', defaultVersion: 1, latestVersion: 2 } });
    expect(f!.template.tags).toEqual({ owner: 'team-a' });
    expect(f!.versions.map((v) => [v.version, v.metadataOptions?.httpTokens])).toEqual([
      [1, 'optional'],
      [2, 'required'],
    ]);
    expect(await find(h.ec2, ref('lt-0123456789abcdef0'))).toBeUndefined();
  });
});

group('evaluate', () => {
  it('an EKS-created template is reported, never fixed', async () => {
    await createCluster(h, 'c1');
    await createNodegroup(h, 'c1', 'managed', { amiType: 'AL2_x86_64' });
    const f = (await find(h.ec2, ref(await eksCreatedTemplate(h, 'c1', 'managed'))))!;
    const d = evaluate(f, POLICY, settings());
    expect(d).toMatchObject({ action: 'report', cluster: 'c1', reason: expect.stringContaining('EKS-created launch template') });
  });

  it('a bad custom default: one fix from that version, made default', async () => {
    const f = (await find(h.ec2, ref(await createTemplate(h, 'nodes', nodeData('optional', 2)))))!;
    const d = evaluate(f, POLICY, settings());
    expect(d.action).toBe('fix');
    if (d.action !== 'fix') return;
    expect(d.fixes).toMatchObject([
      { sourceVersion: 1, kind: 'fix', makeDefault: true, metadataOptions: { httpTokens: 'required', hopLimit: 1 } },
    ]);
  });

  it('exempt by tag, exempt by cluster, out of scope without EKS tags, compliant', async () => {
    const tagged = (await find(h.ec2, ref(await createTemplate(h, 'lt-a', nodeData('optional', 2), { 'imds-guard:exempt': 'true' }))))!;
    expect(evaluate(tagged, POLICY, settings())).toMatchObject({ action: 'skip', outcome: 'exempt', reason: 'tag imds-guard:exempt=true' });
    const inC1 = (await find(h.ec2, ref(await createTemplate(h, 'lt-b', nodeData('optional', 2)))))!;
    expect(evaluate(inC1, POLICY, settings({ EXEMPT_CLUSTERS: 'c1' }))).toMatchObject({ action: 'skip', outcome: 'exempt' });
    const plain = (await find(
      h.ec2,
      ref(await createTemplate(h, 'lt-c', { ImageId: 'ami-1', MetadataOptions: { HttpTokens: 'optional' } })),
    ))!;
    expect(evaluate(plain, POLICY, settings())).toMatchObject({ action: 'skip', outcome: 'out-of-scope' });
    expect(evaluate(plain, POLICY, settings({ SCOPE: 'all' })).action).toBe('fix');
    const good = (await find(h.ec2, ref(await createTemplate(h, 'lt-d', nodeData('required', 1)))))!;
    expect(evaluate(good, POLICY, settings())).toMatchObject({ action: 'skip', outcome: 'compliant' });
  });
});

group('remediate', () => {
  it('creates a compliant version from the source version and makes it the default', async () => {
    const id = await createTemplate(h, 'nodes', nodeData('optional', 2, { UserData: 'IyEvYmluL2Jhc2g=' }));
    const f = (await find(h.ec2, ref(id)))!;
    const d = evaluate(f, POLICY, settings());
    if (d.action !== 'fix') throw new Error(`expected a fix, got ${d.action}`);
    const results = await remediate(h.ec2, f.template, d.fixes);
    expect(results).toMatchObject([{ sourceVersion: 1, newVersion: 2, reused: false, madeDefault: true }]);
    expect(results[0]!.error).toBeUndefined();
    const [v1, v2] = await versions(h, id);
    expect(v2!.LaunchTemplateData!.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(v2!.LaunchTemplateData!.UserData).toBe(v1!.LaunchTemplateData!.UserData);
    expect(v2!.LaunchTemplateData!.ImageId).toBe(v1!.LaunchTemplateData!.ImageId);
    expect(v2!.VersionDescription).toMatch(/^imds-guard: MetadataOptions fixed from version 1 /);
    expect((await templateOf(h, id)).DefaultVersionNumber).toBe(2);
  });
});

group('describe', () => {
  it('builds the audit record: type, ARN with the partition, owner from the tags', () => {
    const r = describe({ id: 'lt-1', name: 'nodes', region: REGION, account: ACCOUNT, tags: { team: 'payments' } }, settings(), {
      trigger,
      mode: 'enforce',
      outcome: 'reported',
      cluster: 'c1',
      reason: 'why',
    });
    expect(r.resource).toMatchObject({
      type: 'launch-template',
      id: 'lt-1',
      name: 'nodes',
      cluster: 'c1',
      owner: 'payments',
      arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:launch-template/lt-1`,
    });
    expect(r).toMatchObject({ outcome: 'reported', reason: 'why', mode: 'enforce' });
  });
});

group('enforceTemplate', () => {
  it('an EKS-created template: reported with the recommendation, and not modified', async () => {
    await createCluster(h, 'c1');
    await createNodegroup(h, 'c1', 'managed', { amiType: 'AL2_x86_64' });
    const id = await eksCreatedTemplate(h, 'c1', 'managed');
    const before = await versions(h, id);
    const [r] = await enforce(id);
    expect(r).toMatchObject({ outcome: 'reported', reason: expect.stringContaining('EKS-created launch template') });
    expect(r!.details).toMatchObject({ recommendation: expect.stringContaining('custom launch template') });
    expect(await versions(h, id)).toEqual(before);
    expect((await templateOf(h, id)).DefaultVersionNumber).toBe(1);
  });

  it('a custom template: fixed with a new version from SourceVersion, made default', async () => {
    const id = await createTemplate(h, 'nodes', nodeData('optional', 2));
    const [r] = await enforce(id);
    expect(r).toMatchObject({
      outcome: 'remediated',
      reason: 'created version 2 from version 1 and made it the default',
      before: { httpTokens: 'optional', hopLimit: 2 },
      after: { httpTokens: 'required', hopLimit: 1 },
    });
    expect(r!.details).toMatchObject({ sourceVersion: 1, newVersion: 2, madeDefault: true });
    expect((await templateOf(h, id)).DefaultVersionNumber).toBe(2);
    // A second event finds nothing left to do.
    expect((await enforce(id))[0]).toMatchObject({ outcome: 'compliant' });
  });

  it('$Latest is preserved: a fixed default older than the latest is followed by a copy of the old latest', async () => {
    const id = await createTemplate(h, 'nodes', nodeData('optional', 2));
    await addVersion(h, id, nodeData('required', 1, { InstanceType: 'c6i.xlarge' }));
    const [r] = await enforce(id);
    expect(r).toMatchObject({ outcome: 'remediated', reason: expect.stringContaining('so $Latest keeps its content') });
    expect(r!.details).toMatchObject({ sourceVersion: 1, newVersion: 3, latestCopy: { sourceVersion: 2, newVersion: 4 } });
    const vs = await versions(h, id);
    expect(vs.map((v) => v.VersionNumber)).toEqual([1, 2, 3, 4]);
    expect(vs[2]!.LaunchTemplateData).toMatchObject({ InstanceType: 'm5.large', MetadataOptions: { HttpTokens: 'required' } });
    expect(vs[3]!.LaunchTemplateData!.InstanceType).toBe('c6i.xlarge');
    const t = await templateOf(h, id);
    expect([t.DefaultVersionNumber, t.LatestVersionNumber]).toEqual([3, 4]);
  });

  it('an exempt template is left alone', async () => {
    const id = await createTemplate(h, 'nodes', nodeData('optional', 2), { 'imds-guard:exempt': 'true' });
    const [r] = await enforce(id);
    expect(r).toMatchObject({ outcome: 'exempt', reason: 'tag imds-guard:exempt=true' });
    expect(await versions(h, id)).toHaveLength(1);
  });

  it('dry run: would-remediate and nothing created; a missing template is gone', async () => {
    const id = await createTemplate(h, 'nodes', nodeData('optional', 2));
    const [r] = await enforce(id, 'dry-run');
    expect(r).toMatchObject({ outcome: 'would-remediate', reason: 'dry run: would create a version from 1 and make it the default' });
    expect(await versions(h, id)).toHaveLength(1);
    expect((await enforce('lt-0123456789abcdef0'))[0]).toMatchObject({ outcome: 'gone' });
  });
});
