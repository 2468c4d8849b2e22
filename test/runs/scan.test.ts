// The backfill library against the sandbox: what a scan covers, what it costs, and that enforcing
// N instances costs N Modify calls and no Describe beyond the inventory pages.
import { CreateLaunchTemplateCommand, EC2Client, type HttpTokensState } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetClients } from '../../lib/shell/clients.js';
import { EARLY_PAGE } from '../../lib/kinds/instance/backfill.js';
import { EKS_NODE_TAG_KEYS, instanceQueries, scanInstances, scanInstancesEarly } from '../../lib/kinds/instance/scan.js';
import { RateLimiter } from '../../lib/shell/rate-limit.js';
import { backfillContext, type RunInfo } from '../../lib/runs/context.js';
import { allRecords, runBackfill } from '../../lib/runs/run.js';
import { exitCode } from '../../lib/report/summary.js';
import { loadConfig } from '../../lib/shell/config.js';
import type { Sandbox } from '../../sandbox/server.js';
import { startTestSandbox } from '../helpers/sandbox.js';
import { launchInstances } from '../helpers/launch.js';

let sb: Sandbox;
let ec2: EC2Client;
const REGION = 'eu-west-1';
const run: RunInfo = {
  runId: 'imds-guard-test-run',
  account: '111122223333',
  actor: 'arn:aws:iam::111122223333:user/tester',
  startedAt: '2026-01-01T00:00:00.000Z',
  source: 'cli',
  eventName: 'Scan',
};

beforeAll(async () => {
  sb = await startTestSandbox();
  ec2 = new EC2Client({ region: REGION, endpoint: sb.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
});
afterAll(() => sb.close());
beforeEach(() => {
  sb.reset();
  vi.stubEnv('AWS_ENDPOINT_URL', sb.url);
  resetClients();
});

const launch = async (count: number, tokens: HttpTokensState, hop: number, tags: Record<string, string>) =>
  (await launchInstances(ec2, count, tokens, hop, tags)).map((i) => i.InstanceId!);

const node = { 'kubernetes.io/cluster/payments': 'owned', owner: 'payments' };
const calls = () => sb.stats().calls;
/** Operations other than Describe/Get/List called since `before`. */
const mutatingSince = (before: Record<string, number>) =>
  Object.entries(calls())
    .filter(([op, n]) => n > (before[op] ?? 0) && !/^(Describe|Get|List)/.test(op))
    .map(([op]) => op);

describe('instanceQueries', () => {
  it('inventory: one query, live states and (scope eks) any EKS tag key', () => {
    expect(instanceQueries({ scope: 'eks', query: 'inventory', maxHopLimit: 1 })).toEqual([
      [
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        { Name: 'tag-key', Values: EKS_NODE_TAG_KEYS },
      ],
    ]);
    expect(instanceQueries({ scope: 'all', query: 'inventory', maxHopLimit: 1 })[0]).toHaveLength(1);
  });

  it('violations: tokens optional OR hop above the maximum, as two ANDed queries', () => {
    const q = instanceQueries({ scope: 'all', query: 'violations', maxHopLimit: 2 });
    expect(q).toHaveLength(2);
    expect(q[0]![1]).toEqual({ Name: 'metadata-options.http-tokens', Values: ['optional'] });
    expect(q[1]![1]!.Name).toBe('metadata-options.http-put-response-hop-limit');
    expect(q[1]![1]!.Values).toEqual(Array.from({ length: 62 }, (_, i) => String(i + 3)));
  });
});

describe('scanInstances: calls measured', () => {
  it('inventory costs ceil(in scope / 1000) pages; violations skips compliant instances, at two queries minimum', async () => {
    await launch(1000, 'required', 1, node); // compliant
    await launch(700, 'optional', 1, node);
    await launch(600, 'required', 2, node);
    await launch(200, 'optional', 2, node);
    await launch(300, 'optional', 2, { Name: 'bastion' }); // not EKS
    const client = backfillContext(loadConfig({}), REGION).clients.ec2;

    const inv = await scanInstances(client, { scope: 'eks', query: 'inventory', maxHopLimit: 1 });
    expect(inv.instances).toHaveLength(2500);
    expect(inv.calls).toBe(3);
    const ids = inv.instances.map((i) => i.instanceId);
    expect(ids).toEqual([...ids].sort());

    const vio = await scanInstances(client, { scope: 'eks', query: 'violations', maxHopLimit: 1 });
    expect(vio.instances).toHaveLength(1500); // 900 optional + 800 hop 2, of which 200 are both
    expect(vio.calls).toBe(2);

    const all = await scanInstances(client, { scope: 'all', query: 'inventory', maxHopLimit: 1 });
    expect(all.instances).toHaveLength(2800);
    expect(calls().DescribeInstances).toBe(3 + 2 + 3);
  });

  it('early: a first page of the given size at once; the rest only when asked for, continuing (no instance twice)', async () => {
    await launch(700, 'optional', 2, node);
    await launch(600, 'required', 2, node);
    const client = backfillContext(loadConfig({}), REGION).clients.ec2;
    for (const query of ['inventory', 'violations'] as const) {
      const before = calls().DescribeInstances ?? 0;
      const { first, rest } = await scanInstancesEarly(client, { scope: 'eks', query, maxHopLimit: 1 }, EARLY_PAGE);
      expect(first.instances).toHaveLength(EARLY_PAGE);
      expect(first.calls).toBe(1);
      // Nothing more is described until the rest is asked for.
      await new Promise((r) => setTimeout(r, 50));
      expect((calls().DescribeInstances ?? 0) - before).toBe(1);
      const r = await rest();
      expect(rest()).toBe(rest()); // listed once
      const ids = [...first.instances, ...r.instances].map((i) => i.instanceId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(1300);
      expect(r.instances.map((i) => i.instanceId)).toEqual(r.instances.map((i) => i.instanceId).sort());
      // The rest continues from the first page's token: 25 + 1000 + 275 for the inventory; the violations
      // queries (tokens optional, hop limit above 1) overlap, and the overlap is dropped.
      expect(r.calls).toBe(query === 'inventory' ? 2 : 3);
    }
  });
});

describe('runBackfill', () => {
  const config = (env: Record<string, string> = {}) => loadConfig({ IDENTITY_GATE: 'off', ...env });

  it('scan (dry run): would-remediate records and zero mutating calls', async () => {
    const bad = [
      ...(await launch(3, 'optional', 2, node)),
      ...(await launch(2, 'required', 2, node)),
      ...(await launch(1, 'optional', 1, node)),
    ];
    await launch(4, 'required', 1, node);
    await launch(1, 'optional', 2, { ...node, 'imds-guard:exempt': 'true' });
    const before = calls();
    const result = await runBackfill({
      config: config(),
      run,
      request: { mode: 'dry-run', regions: [REGION], clusters: [], query: 'inventory' },
    });
    const records = allRecords(result).filter((r) => r.resource.type === 'instance');
    expect(
      records
        .filter((r) => r.outcome === 'would-remediate')
        .map((r) => r.resource.id)
        .sort(),
    ).toEqual(bad.sort());
    expect(records.filter((r) => r.outcome === 'compliant')).toHaveLength(4);
    expect(records.filter((r) => r.outcome === 'exempt')).toHaveLength(1);
    for (const r of records.filter((x) => x.outcome === 'would-remediate'))
      expect(r.desired).toMatchObject({ httpTokens: 'required', hopLimit: 1 });
    expect(mutatingSince(before)).toEqual([]);
    expect(calls().ModifyInstanceMetadataOptions).toBeUndefined();
    expect(exitCode(result.regions)).toBe(1);
    expect(result.regions[0]!.accountDefaults?.posture.compliant).toBe(false);
    expect(allRecords(result).find((r) => r.resource.type === 'account-defaults')).toMatchObject({ outcome: 'reported' });
  });

  it('enforce: N non-compliant instances cost N Modify calls and only the inventory Describe', async () => {
    const bad = [...(await launch(1200, 'optional', 2, node)), ...(await launch(150, 'required', 2, node))];
    await launch(50, 'required', 1, node);
    const limiter = new RateLimiter({ enabled: false });
    const result = await runBackfill({
      config: config(),
      run: { ...run, eventName: 'Enforce' },
      limiter,
      request: { mode: 'enforce', regions: [REGION], clusters: [], query: 'inventory' },
    });
    const records = allRecords(result).filter((r) => r.resource.type === 'instance');
    expect(records.filter((r) => r.outcome === 'remediated')).toHaveLength(bad.length);
    expect(calls().ModifyInstanceMetadataOptions).toBe(bad.length);
    // 1400 instances: the early first page (25, changed while the rest is listed), then two inventory pages; nothing per instance.
    expect(calls().DescribeInstances).toBe(3);
    expect(limiter.stats().acquired[`${REGION}|ModifyInstanceMetadataOptions`]).toBe(bad.length);
    const state = sb.state.region(REGION).instances;
    for (const id of bad) expect(state.get(id)!.metadata).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    // Every remediation sent HttpTokens=required with the hop limit (REFERENCE §1).
    expect(records.every((r) => r.outcome !== 'remediated' || (r.after?.httpTokens === 'required' && r.after.hopLimit === 1))).toBe(true);
    expect(exitCode(result.regions, 'fixable')).toBe(0); // enforce's exit code: nothing fixable left
  });

  it('enforce: each changed launch template is described once (the plan carries what apply needs)', async () => {
    for (const name of ['lt-a', 'lt-b', 'lt-c'])
      await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: name,
          LaunchTemplateData: { ImageId: 'ami-12345678', MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 } },
        }),
      );
    const before = { ...calls() };
    const result = await runBackfill({
      config: config({ SCOPE: 'all' }),
      run: { ...run, eventName: 'Enforce' },
      request: { mode: 'enforce', regions: [REGION], clusters: [], query: 'inventory' },
    });
    const templates = allRecords(result).filter((r) => r.resource.type === 'launch-template');
    expect(templates.map((r) => r.outcome)).toEqual(['remediated', 'remediated', 'remediated']);
    const since = (op: string) => (calls()[op] ?? 0) - (before[op] ?? 0);
    expect(since('CreateLaunchTemplateVersion')).toBe(3);
    // One DescribeLaunchTemplateVersions per template (default and latest are one version here), none again to apply.
    expect(since('DescribeLaunchTemplateVersions')).toBe(3);
  });

  it('enforce: each node group is described once, and reuses the version its template fix made in the same run', async () => {
    const templateIds: string[] = [];
    for (const name of ['ng-a', 'ng-b'])
      templateIds.push(
        (
          await ec2.send(
            new CreateLaunchTemplateCommand({
              LaunchTemplateName: `lt-${name}`,
              LaunchTemplateData: { ImageId: 'ami-12345678', MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 } },
            }),
          )
        ).LaunchTemplate!.LaunchTemplateId!,
      );
    const eks = new EKSClient({ region: REGION, endpoint: sb.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    await eks.send(
      new CreateClusterCommand({ name: 'payments', roleArn: 'arn:aws:iam::111122223333:role/eks', resourcesVpcConfig: { subnetIds: [] } }),
    );
    for (const [i, name] of ['ng-a', 'ng-b'].entries())
      await eks.send(
        new CreateNodegroupCommand({
          clusterName: 'payments',
          nodegroupName: name,
          nodeRole: 'arn:aws:iam::111122223333:role/eks-node',
          subnets: ['subnet-0a1b2c3d4e5f60001'],
          // No nodes: the instances' owner lookup would describe the node group too.
          scalingConfig: { minSize: 0, maxSize: 1, desiredSize: 0 },
          launchTemplate: { id: templateIds[i]!, version: '1' },
        }),
      );
    const before = { ...calls() };
    const result = await runBackfill({
      config: config({ SCOPE: 'all' }),
      run: { ...run, eventName: 'Enforce' },
      request: { mode: 'enforce', regions: [REGION], clusters: [], query: 'inventory' },
    });
    const since = (op: string) => (calls()[op] ?? 0) - (before[op] ?? 0);
    const groups = allRecords(result).filter((r) => r.resource.type === 'nodegroup');
    expect(groups.map((r) => [r.resource.id, r.outcome])).toEqual([
      ['ng-a', 'reported'],
      ['ng-b', 'reported'],
    ]);
    // The template's fix made version 2; the node group reuses it (no second version) and is described once.
    expect(groups.map((r) => r.details?.newVersion)).toEqual([2, 2]);
    expect(since('CreateLaunchTemplateVersion')).toBe(2);
    expect(since('DescribeNodegroup')).toBe(2);
  });

  it('a continuation run handles only instances after the given ID, and a deadline stops between chunks', async () => {
    await launch(60, 'optional', 2, node);
    const first = await runBackfill({
      config: config(),
      run,
      request: { mode: 'enforce', regions: [REGION], clusters: [], query: 'inventory', deadline: Date.now() - 1, chunkSize: 10 },
    });
    const r = first.regions[0]!;
    // The early first page (EARLY_PAGE) is changed whole; of the rest, one chunk before the deadline stops it.
    expect(r.continuation).toMatchObject({ remaining: 60 - EARLY_PAGE - 10 });
    const done = r.records.filter((x) => x.resource.type === 'instance');
    expect(done).toHaveLength(EARLY_PAGE + 10);
    expect(done.every((x) => x.outcome === 'remediated')).toBe(true);
    const cut = r.continuation!;
    // Every ID up to the cut was handled; the first page's IDs past it are named, so the next link skips them.
    expect(new Set(cut.handled)).toEqual(new Set(done.filter((x) => x.resource.id > cut.afterInstanceId).map((x) => x.resource.id)));
    expect(cut.handled!.length).toBeGreaterThan(0);

    const second = await runBackfill({
      config: config(),
      run,
      request: {
        mode: 'enforce',
        regions: [REGION],
        clusters: [],
        query: 'inventory',
        afterInstanceId: cut.afterInstanceId,
        handled: cut.handled!,
        include: { instances: true, templates: false, nodegroups: false, accountDefaults: false, identity: false },
      },
    });
    const rest = second.regions[0]!.records;
    expect(rest).toHaveLength(60 - EARLY_PAGE - 10);
    expect(rest.every((x) => x.outcome === 'remediated' && x.resource.id > cut.afterInstanceId)).toBe(true);
    // Nothing twice: every instance exactly once over both links.
    expect(new Set([...done, ...rest].map((x) => x.resource.id)).size).toBe(60);
    expect(calls().ModifyInstanceMetadataOptions).toBe(60);
  });

  it('a Region that cannot be scanned is an error (exit 2); the other Regions still run', async () => {
    await launch(2, 'optional', 2, node);
    sb.setFaults({ errors: { DescribeInstances: { rate: 1, kind: '5xx' } } });
    const result = await runBackfill({
      config: config({ MAX_ATTEMPTS: '1' }),
      run,
      request: { mode: 'dry-run', regions: [REGION, 'us-east-1'], clusters: [], query: 'inventory' },
    });
    sb.setFaults({});
    expect(result.regions.map((r) => [r.region, r.error?.name])).toEqual([
      [REGION, 'InternalError'],
      ['us-east-1', 'InternalError'],
    ]);
    expect(exitCode(result.regions)).toBe(2);
  });
});
