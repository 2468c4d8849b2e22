// Issue 15 in the CLI: `--output ocsf` (OCSF Compliance Finding JSON Lines, one per record) and `--security-hub`
// (every record imported as the account's own ASFF finding), against the sandbox seeded with the demo estate.
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedDemo, type DemoInfo } from '../../sandbox/scenarios/demo.js';
import type { Sandbox } from '../../sandbox/server.js';
import { startTestSandbox } from '../helpers/sandbox.js';
import { cli } from './helpers.js';

let sb: Sandbox;
let demo: DemoInfo;
const R = 'eu-west-1';

beforeAll(async () => {
  sb = await startTestSandbox();
});
afterAll(() => sb.close());
beforeEach(async () => {
  sb.reset();
  demo = await seedDemo({ endpoint: sb.url, region: R });
});
const at = () => ['--endpoint-url', sb.url];

// OCSF 1.6 Compliance Finding (class_uid 2003): the attributes the schema marks required (base event + class).
const OCSF_REQUIRED = [
  'activity_id',
  'category_uid',
  'class_uid',
  'compliance',
  'finding_info',
  'metadata',
  'severity_id',
  'time',
  'type_uid',
];

describe('--output ocsf', () => {
  it('scan writes one OCSF Compliance Finding per record, as JSON Lines', async () => {
    const ocsf = await cli(['scan', '--regions', R, '--output', 'ocsf', ...at()]);
    const json = (await cli(['scan', '--regions', R, '--output', 'json', ...at()])).json();
    expect(ocsf.code).toBe(json.exitCode);
    expect(ocsf.stdout.endsWith('\n')).toBe(true);
    const lines = ocsf.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(json.records.length);
    for (const f of lines) {
      for (const k of OCSF_REQUIRED) expect(f[k], k).toBeDefined();
      expect([f.class_uid, f.category_uid, f.type_uid, f.activity_id]).toEqual([2003, 2, 200301, 1]);
      expect(f.metadata.version).toBe('1.6.0');
      expect(typeof f.finding_info.uid).toBe('string');
      expect(typeof f.compliance.status_id).toBe('number');
    }
    // The same resources, in the same order, as the JSON output.
    expect(lines.map((f) => f.resources[0].uid)).toEqual(json.records.map((r: any) => r.resource.arn));
    const hop2 = lines.find((f) => f.resources[0].uid.endsWith(`/${demo.selfManaged.requiredHop2}`));
    expect(hop2.compliance).toMatchObject({ status: 'Fail', status_id: 3, requirements: ['EC2.8'] });
  });

  it('enforce writes what it did: the fixed instance passes', async () => {
    const out = await cli(['enforce', '--regions', R, '--yes', '--output', 'ocsf', ...at()]);
    const lines = out.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const hop2 = lines.find((f) => f.resources[0].uid.endsWith(`/${demo.selfManaged.requiredHop2}`));
    expect(hop2.compliance).toMatchObject({ status: 'Pass', status_id: 1 });
    expect(hop2.status).toBe('Resolved');
  });
});

describe('--security-hub', () => {
  it("scan imports every record that was checked as the account's own finding; enforce then resolves them", async () => {
    const hub = new SecurityHubClient({ region: R, endpoint: sb.url });
    const own = async () => (await hub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? [];
    const scan = await cli(['scan', '--regions', R, '--security-hub', '--output', 'json', ...at()]);
    const checked = scan.json().records.filter((r) => r.outcome !== 'out-of-scope');
    expect(scan.stderr).toContain(`security hub: ${checked.length} finding(s) imported, 0 refused`);
    const before = await own();
    expect(before).toHaveLength(checked.length);
    const byResource = (fs: typeof before, id: string) => fs.find((f) => f.Resources![0]!.Id!.endsWith(`/${id}`));
    expect(byResource(before, demo.selfManaged.requiredHop2)).toMatchObject({
      Compliance: { Status: 'FAILED' },
      Workflow: { Status: 'NEW' },
    });

    await cli(['enforce', '--regions', R, '--yes', '--security-hub', '--output', 'json', ...at()]);
    const after = await own();
    // Same finding ids: the later record updated the finding in place.
    expect(after.map((f) => f.Id).sort()).toEqual(before.map((f) => f.Id).sort());
    expect(byResource(after, demo.selfManaged.requiredHop2)).toMatchObject({
      Compliance: { Status: 'PASSED' },
      Workflow: { Status: 'RESOLVED' },
      Note: { UpdatedBy: 'imds-guard' },
    });
  });
});
