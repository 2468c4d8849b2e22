// imds-guard CLI end to end, in-process, against the sandbox seeded with the demo estate over HTTP.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CSV_COLUMNS } from '../../cli/format.js';
import { seedDemo, type DemoInfo } from '../../sandbox/scenarios/demo.js';
import type { Sandbox } from '../../sandbox/server.js';
import { startTestSandbox } from '../helpers/sandbox.js';
import { cli } from './helpers.js';

let sb: Sandbox;
let demo: DemoInfo;
let dir: string;
const R = 'eu-west-1';

beforeAll(async () => {
  sb = await startTestSandbox();
  dir = mkdtempSync(join(tmpdir(), 'imds-guard-cli-'));
});
afterAll(() => sb.close());
beforeEach(async () => {
  sb.reset();
  demo = await seedDemo({ endpoint: sb.url, region: R });
});

const at = () => ['--endpoint-url', sb.url];
const calls = () => sb.stats().calls;
const snapshotCalls = () => ({ ...calls() });
/** Operations other than Describe/Get/List since `before`. */
const mutatingSince = (before: Record<string, number>) =>
  Object.entries(calls())
    .filter(([op, n]) => n > (before[op] ?? 0) && !/^(Describe|Get|List)/.test(op))
    .map(([op]) => op);
const metadata = () => Object.fromEntries([...sb.state.region(R).instances.values()].map((i) => [i.id, { ...i.metadata }]));

describe('imds-guard scan', () => {
  it('finds the violations, exit 1, and makes zero mutating calls', async () => {
    const before = snapshotCalls();
    const state = metadata();
    const r = await cli(['scan', '--regions', R, '--output', 'json', ...at()]);
    expect(r.code).toBe(1);
    const j = r.json();
    expect(j).toMatchObject({ schema: 'imds-guard.cli/v1', command: 'scan', mode: 'dry-run', exitCode: 1 });
    const would = j.records.filter((x) => x.outcome === 'would-remediate');
    expect(
      would
        .filter((x) => x.resource.type === 'instance')
        .map((x) => x.resource.id)
        .sort(),
    ).toEqual([...demo.expectedNonCompliantNodes].sort());
    expect(would.find((x) => x.resource.type === 'launch-template')?.resource.id).toBe(demo.nodegroups.analyticsCustom.launchTemplateId);
    expect(j.records.find((x) => x.resource.id === demo.exemptInstanceId)?.outcome).toBe('exempt');
    expect(j.records.find((x) => x.resource.id === demo.bastionInstanceId)).toBeUndefined(); // scope eks
    expect(j.records.find((x) => x.resource.id === demo.nodegroups.paymentsDefault.launchTemplateId)?.outcome).toBe('reported');
    expect(j.records.find((x) => x.resource.type === 'account-defaults')?.outcome).toBe('reported');
    expect(j.regions[0]!.identity).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ cluster: 'payments', irsa: true }),
        expect.objectContaining({ cluster: 'analytics', podIdentityAgent: true }),
      ]),
    );
    expect(j.records[0]!.trigger).toMatchObject({
      source: 'cli',
      eventName: 'Scan',
      account: '111122223333',
      actor: expect.stringContaining('arn:aws:sts::111122223333:'),
    });
    expect(mutatingSince(before)).toEqual([]);
    expect(metadata()).toEqual(state);
  });

  it('without --regions: every Region DescribeRegions lists', async () => {
    const r = await cli(['scan', '--output', 'json', ...at()]);
    expect(r.json().regions.map((x) => x.region)).toEqual(['ap-southeast-2', 'eu-west-1', 'us-east-1']);
  });

  it('--scope all includes non-EKS instances; --cluster narrows to one cluster', async () => {
    const all = (await cli(['scan', '--regions', R, '--scope', 'all', '--output', 'json', ...at()])).json();
    expect(all.records.find((x) => x.resource.id === demo.bastionInstanceId)?.outcome).toBe('would-remediate');
    const one = (await cli(['scan', '--regions', R, '--cluster', 'analytics', '--output', 'json', ...at()])).json();
    const clusters = new Set(one.records.filter((x) => x.resource.type !== 'account-defaults').map((x) => x.resource.cluster));
    expect([...clusters]).toEqual(['analytics']);
    expect(
      one.records
        .filter((x) => x.outcome === 'would-remediate' && x.resource.type === 'instance')
        .map((x) => x.resource.id)
        .sort(),
    ).toEqual([...demo.nodegroups.analyticsCustom.instanceIds].sort());
  });

  it('--query violations returns the same violations with fewer records', async () => {
    const inv = (await cli(['scan', '--regions', R, '--output', 'json', ...at()])).json();
    const before = calls().DescribeInstances ?? 0;
    const vio = (await cli(['scan', '--regions', R, '--query', 'violations', '--output', 'json', ...at()])).json();
    expect(calls().DescribeInstances! - before).toBe(2);
    const ids = (j: typeof inv) =>
      j.records
        .filter((x) => x.resource.type === 'instance' && x.outcome === 'would-remediate')
        .map((x) => x.resource.id)
        .sort();
    expect(ids(vio)).toEqual(ids(inv));
    expect(vio.records.some((x) => x.resource.type === 'instance' && x.outcome === 'compliant')).toBe(false);
  });

  it('--output csv: a header and one row per record; table: readable, compliant rows hidden', async () => {
    const csv = await cli(['scan', '--regions', R, '--output', 'csv', ...at()]);
    const json = (await cli(['scan', '--regions', R, '--output', 'json', ...at()])).json();
    const lines = csv.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(json.records.length + 1);
    expect(lines.find((l) => l.includes(demo.selfManaged.requiredHop2))).toMatch(/would-remediate,medium,required,2,enabled,required,1,/);

    const table = await cli(['scan', '--regions', R, ...at()]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/REGION\s+TYPE\s+ID\s+CLUSTER\s+OUTCOME\s+BEFORE\s+AFTER\s+REASON/);
    expect(table.stdout).toContain(demo.selfManaged.optionalHop1);
    expect(table.stdout).not.toContain(demo.karpenterInstanceIds[0]!); // compliant: hidden
    // The demo's 10 non-compliant nodes, its 2 non-compliant custom templates (analytics-nodes, eksctl's) and analytics-custom.
    expect(table.stdout).toMatch(/Exit 1: \d+ resource\(s\) in scope left out of policy \(13 would change\)/);
    expect((await cli(['scan', '--regions', R, '--all', ...at()])).stdout).toContain(demo.karpenterInstanceIds[0]!);
    expect(table.stderr).toBe(''); // not a TTY: nothing but the result
  });

  it('on a TTY: one progress bar per Region on stderr', async () => {
    const r = await cli(['scan', '--regions', `${R},us-east-1`, '--output', 'json', ...at()], { tty: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('eu-west-1');
    expect(r.stderr).toContain('us-east-1');
    expect(r.stderr).toContain('done');
    expect(() => r.json()).not.toThrow();
  });
});

describe('imds-guard enforce', () => {
  it('refuses without --yes when stdin is not a terminal, before any AWS call', async () => {
    const before = snapshotCalls();
    const r = await cli(['enforce', '--regions', R, ...at()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pass --yes/);
    expect(calls()).toEqual(before);
  });

  it('--dry-run changes nothing (exit 1, would-remediate)', async () => {
    const before = snapshotCalls();
    const state = metadata();
    const r = await cli(['enforce', '--dry-run', '--regions', R, '--output', 'json', ...at()]);
    expect(r.code).toBe(1);
    expect(r.json().counts['would-remediate']).toBe(demo.expectedNonCompliantNodes.length + 3);
    expect(r.json().counts.remediated).toBeUndefined();
    expect(mutatingSince(before)).toEqual([]);
    expect(metadata()).toEqual(state);
  });

  it('--yes fixes them: one Modify per instance, no Describe per instance; the follow-up scan exits 0 with --fail-on fixable', async () => {
    const before = snapshotCalls();
    const r = await cli(['enforce', '--yes', '--rollout', '--regions', R, '--output', 'json', ...at()]);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.records.filter((x) => x.resource.type === 'instance' && x.outcome === 'remediated')).toHaveLength(
      demo.expectedNonCompliantNodes.length,
    );
    expect(calls().ModifyInstanceMetadataOptions! - (before.ModifyInstanceMetadataOptions ?? 0)).toBe(
      demo.expectedNonCompliantNodes.length,
    );
    expect(calls().DescribeInstances! - (before.DescribeInstances ?? 0)).toBe(1);
    expect(j.records.find((x) => x.resource.type === 'nodegroup' && x.resource.id === 'analytics-custom')?.outcome).toBe('remediated');
    for (const id of demo.expectedNonCompliantNodes) {
      const m = sb.state.region(R).instances.get(id)!;
      if (m.state !== 'terminated') expect(m.metadata).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    }
    const again = await cli(['scan', '--regions', R, '--fail-on', 'fixable', '--output', 'json', ...at()]);
    expect(again.code).toBe(0);
    expect(again.json().counts['would-remediate']).toBeUndefined();
  });

  it('on a terminal it asks once, after planning; "n" changes nothing', async () => {
    const before = snapshotCalls();
    const no = await cli(['enforce', '--regions', R, '--output', 'json', ...at()], { interactive: true, answer: 'n' });
    expect(no.prompts).toHaveLength(1);
    expect(no.prompts[0]).toMatch(/Apply these 13 changes in account 111122223333\?/);
    expect(no.stderr).toMatch(/would change 13 resource\(s\)/);
    expect(no.code).toBe(1);
    expect(no.json().declined).toBe(true);
    expect(mutatingSince(before)).toEqual([]);

    const yes = await cli(['enforce', '--regions', R, '--output', 'json', ...at()], { interactive: true, answer: 'y' });
    expect(yes.json().counts.remediated).toBeGreaterThanOrEqual(12);
    expect(calls().ModifyInstanceMetadataOptions).toBe(demo.expectedNonCompliantNodes.length);
  });
});

describe('imds-guard revert', () => {
  it('restores the exact "before" options from the JSON Lines written by --out', async () => {
    const original = metadata();
    const out = join(dir, 'audit.jsonl');
    const e = await cli(['enforce', '--yes', '--regions', R, '--out', out, '--output', 'json', ...at()]);
    expect(e.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(e.json().records.length);
    expect(JSON.parse(lines[0]!).schema).toBe('imds-guard.audit/v1');
    expect(metadata()).not.toEqual(original);

    const before = snapshotCalls();
    const r = await cli(['revert', '--audit', out, '--yes', '--output', 'json', ...at()]);
    expect(r.code).toBe(0);
    // Every instance is back exactly, including HttpTokens=optional where it was.
    expect(metadata()).toEqual(original);
    const j = r.json();
    expect(j.records.map((x) => x.resource.id).sort()).toEqual([...demo.expectedNonCompliantNodes].sort());
    expect(j.records.every((x) => x.outcome === 'reverted' && x.trigger.eventName === 'Revert')).toBe(true);
    expect(j.skipped?.map((s) => s.id).sort()).toEqual(
      [demo.nodegroups.analyticsCustom.launchTemplateId, demo.modernNodegroups.eksctl.launchTemplateId].sort(),
    );
    expect(calls().ModifyInstanceMetadataOptions! - (before.ModifyInstanceMetadataOptions ?? 0)).toBe(
      demo.expectedNonCompliantNodes.length,
    );
  });

  it('sends HttpTokens and the hop limit (and HttpEndpoint when recorded), never one alone', async () => {
    const out = join(dir, 'audit-2.jsonl');
    await cli(['enforce', '--yes', '--regions', R, '--out', out, ...at()]);
    const inst = sb.state.region(R).instances.get(demo.selfManaged.requiredHop2)!;
    // Someone changed the hop limit after the audit; revert still restores both fields exactly.
    inst.metadata.HttpPutResponseHopLimit = 5;
    inst.metadata.HttpTokens = 'optional';
    await cli(['revert', '--audit', out, '--yes', ...at()]);
    expect(inst.metadata).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' });
  });

  it('only records with outcome remediated are reverted', async () => {
    const file = join(dir, 'mixed.jsonl');
    const base = {
      schema: 'imds-guard.audit/v1',
      time: 't',
      mode: 'enforce',
      trigger: { source: 'cli', eventName: 'Enforce', eventId: 'x', eventTime: 't', actor: 'a', region: R, account: '111122223333' },
      severity: 'low',
      violations: [],
    };
    const rec = (id: string, outcome: string, before: object) => ({
      ...base,
      id: `x:${id}`,
      outcome,
      before,
      resource: { type: 'instance', id, arn: 'arn', region: R, account: '111122223333', owner: 'o' },
    });
    writeFileSync(
      file,
      [
        rec(demo.karpenterInstanceIds[0]!, 'compliant', { httpTokens: 'optional', hopLimit: 9 }),
        rec(demo.exemptInstanceId, 'exempt', { httpTokens: 'optional', hopLimit: 9 }),
        rec(demo.karpenterInstanceIds[1]!, 'remediated', { httpTokens: 'optional', hopLimit: 3 }),
      ]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    const r = await cli(['revert', '--audit', file, '--yes', '--output', 'json', ...at()]);
    expect(r.code).toBe(0);
    expect(r.json().records.map((x) => x.resource.id)).toEqual([demo.karpenterInstanceIds[1]]);
    expect(sb.state.region(R).instances.get(demo.karpenterInstanceIds[1]!)!.metadata).toMatchObject({
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 3,
    });
    expect(sb.state.region(R).instances.get(demo.karpenterInstanceIds[0]!)!.metadata).toMatchObject({
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 1,
    });
  });

  it('--instances with --before; --dry-run changes nothing; bad input is exit 2 with no AWS call', async () => {
    const id = demo.karpenterInstanceIds[0]!;
    const before = snapshotCalls();
    expect((await cli(['revert', '--instances', id, '--before', 'tokens=optional,hop=2', '--regions', R, '--dry-run', ...at()])).code).toBe(
      0,
    );
    expect(mutatingSince(before)).toEqual([]);
    const r = await cli([
      'revert',
      '--instances',
      id,
      '--before',
      'tokens=optional,hop=2',
      '--regions',
      R,
      '--yes',
      '--output',
      'json',
      ...at(),
    ]);
    expect(r.code).toBe(0);
    expect(sb.state.region(R).instances.get(id)!.metadata).toMatchObject({ HttpTokens: 'optional', HttpPutResponseHopLimit: 2 });
    expect(r.json().records[0]).toMatchObject({
      outcome: 'reverted',
      severity: 'high',
      before: { httpTokens: 'required', hopLimit: 1 },
      after: { httpTokens: 'optional', hopLimit: 2 },
    });

    const quiet = snapshotCalls();
    for (const argv of [
      ['revert', '--instances', id, '--regions', R, '--yes'],
      ['revert', '--instances', id, '--before', 'hop=2', '--regions', R, '--yes'],
      ['revert', '--instances', 'not-an-id', '--before', 'tokens=optional,hop=2', '--regions', R, '--yes'],
      ['revert', '--audit', join(dir, 'missing.jsonl'), '--yes'],
      ['revert', '--yes'],
    ]) {
      const bad = await cli([...argv, ...at()]);
      expect(bad.code, argv.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(/^imds-guard: /);
    }
    expect(mutatingSince(quiet)).toEqual([]);
    expect((await cli(['revert', '--audit', join(dir, 'missing.jsonl'), ...at()])).stderr).toMatch(/cannot read/);
  });
});

describe('imds-guard account-defaults', () => {
  it('--check reports per Region (exit 1); --apply sets them (exit 0); the next check passes', async () => {
    const check = await cli(['account-defaults', '--check', '--regions', `${R},us-east-1`, '--output', 'json', ...at()]);
    expect(check.code).toBe(1);
    expect(check.json().records.map((x) => x.outcome)).toEqual(['would-remediate', 'would-remediate']);
    expect(calls().ModifyInstanceMetadataDefaults).toBeUndefined();

    expect((await cli(['account-defaults', '--apply', '--regions', R, ...at()])).code).toBe(2); // no --yes
    const apply = await cli(['account-defaults', '--apply', '--yes', '--regions', R, '--output', 'json', ...at()]);
    expect(apply.code).toBe(0);
    expect(sb.state.region(R).metadataDefaults).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(apply.stderr).not.toMatch(/WARNING/);
    expect((await cli(['account-defaults', '--check', '--regions', R, ...at()])).code).toBe(0);
  });

  it('--http-tokens-enforced warns loudly and sets HttpTokensEnforced=enabled', async () => {
    const r = await cli([
      'account-defaults',
      '--apply',
      '--http-tokens-enforced',
      '--yes',
      '--max-hop-limit',
      '2',
      '--regions',
      R,
      ...at(),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/WARNING[\s\S]*UnsupportedOperation[\s\S]*EKS/);
    expect(sb.state.region(R).metadataDefaults).toEqual({
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 2,
      HttpTokensEnforced: 'enabled',
    });
  });

  it('takes exactly one of --check and --apply', async () => {
    expect((await cli(['account-defaults', ...at()])).code).toBe(2);
    expect((await cli(['account-defaults', '--check', '--apply', ...at()])).code).toBe(2);
  });
});

describe('errors are one line and exit 2', () => {
  it('bad arguments', async () => {
    expect((await cli(['scan', '--regions', 'Frankfurt', ...at()])).code).toBe(2);
    expect((await cli(['scan', '--output', 'xml', ...at()])).code).toBe(2);
    expect((await cli(['scan', '--concurrency', '0', ...at()])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['scan', '--endpoint-url', 'not a url'])).stderr).toMatch(/not a URL/);
  });

  it('--help and --version exit 0', async () => {
    const h = await cli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/scan[\s\S]*enforce[\s\S]*revert[\s\S]*account-defaults/);
    expect((await cli(['enforce', '--help'])).stdout).toMatch(/--dry-run/);
    expect((await cli(['--version'])).code).toBe(0);
  });

  it('an unreachable endpoint says so and suggests the sandbox', async () => {
    const r = await cli(['scan', '--regions', R, '--endpoint-url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9.*npm run sandbox/);
  });

  it('no credentials: says so and suggests npm run sandbox', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    vi.stubEnv('AWS_PROFILE', 'imds-guard-no-such-profile');
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'none'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'none'));
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    try {
      const r = await cli(['scan', '--regions', R, ...at()]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^imds-guard: no AWS credentials found.*npm run sandbox/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('restores the process environment after --endpoint-url', async () => {
    const prev = process.env.AWS_ENDPOINT_URL;
    await cli(['scan', '--regions', R, ...at()]);
    expect(process.env.AWS_ENDPOINT_URL).toBe(prev);
  });
});
