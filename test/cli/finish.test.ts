// The CLI's finish: width-aware table, colour, --quiet, credential and Region errors, the confirmation's list.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planText } from '../../cli/commands/scan.js';
import { colorEnabled, displayFor, PLAIN } from '../../cli/display.js';
import { type CliIo, run } from '../../cli/main.js';
import { listProfiles } from '../../cli/profiles.js';
import { nearestRegions } from '../../cli/regions.js';
import { commandsIn, grid, liftCommands } from '../../cli/table.js';
import { type DemoInfo, seedDemo } from '../../sandbox/scenarios/demo.js';
import type { Sandbox } from '../../sandbox/server.js';
import { startTestSandbox } from '../helpers/sandbox.js';
import { cli } from './helpers.js';

const R = 'eu-west-1';
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`);
const NG_COMMAND =
  /aws eks update-nodegroup-version --region eu-west-1 --cluster-name analytics --nodegroup-name analytics-custom --launch-template id=lt-[0-9a-f]+,version=2/;

describe('table layout (pure)', () => {
  const rows: [string[], ...string[][]] = [
    ['ID', 'OUTCOME', 'REASON'],
    ['i-1', 'reported', 'a fairly long reason that goes on and on about what happened and why it matters to the owner'],
  ];
  it('fits the width: wraps the last column on words and never exceeds the width', () => {
    const out = grid({ ...PLAIN, width: 50 }, rows);
    for (const l of out.split('\n')) expect(l.length).toBeLessThanOrEqual(50);
    expect(out.split('\n').length).toBeGreaterThan(2);
    expect(out.replace(/\s+/g, ' ')).toContain('what happened and why it matters to the owner');
    expect(grid({ ...PLAIN, width: 200 }, rows).split('\n')).toHaveLength(2);
  });

  it('too narrow for a readable last column: one block per row, every value kept', () => {
    const out = grid({ ...PLAIN, width: 40 }, [
      ['REGION', 'TYPE', 'ID', 'REASON'],
      ['eu-west-1', 'launch-template', 'lt-0123456789abcdef0', 'x y z'],
    ]);
    expect(out.split('\n')[0]).toBe('eu-west-1');
    expect(out).toMatch(/type\s+launch-template/);
    expect(out).toMatch(/reason\s+x y z/);
  });

  it('commands are lifted out of the cell whole and numbered', () => {
    const cmd =
      'aws eks update-nodegroup-version --region eu-west-1 --cluster-name a --nodegroup-name b --launch-template id=lt-1,version=2';
    expect(commandsIn(`rollout is opt-in. Run: ${cmd}`)).toEqual([cmd]);
    expect(commandsIn('run imds-guard account-defaults --apply.')).toEqual(['imds-guard account-defaults --apply']);
    expect(commandsIn('which imds-guard must not change')).toEqual([]);
    const lifted = liftCommands([['REASON'], [`Run: ${cmd}`]], 0);
    expect(lifted).toEqual({ rows: [['REASON'], ['Run: [1]']], commands: [cmd] });
  });
});

describe('display (pure)', () => {
  it('colour: NO_COLOR wins, FORCE_COLOR forces, otherwise only a terminal', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
  it('width: the terminal, else COLUMNS, else the fallback', () => {
    expect(displayFor({ isTTY: true, columns: 97 }, {}, false).width).toBe(97);
    expect(displayFor({ isTTY: false }, { COLUMNS: '120' }, false).width).toBe(120);
    expect(displayFor({ isTTY: false }, {}, false).width).toBe(200);
  });
  it('nearest Regions of a typo', () => {
    expect(nearestRegions('eu-west-9')).toEqual(['eu-west-1', 'eu-west-2', 'eu-west-3']);
  });
});

describe('enforce confirmation text (pure)', () => {
  it('lists the first 20 resources, then how many more', () => {
    const resources = Array.from({ length: 25 }, (_, i) => ({ region: R, type: 'instance', id: `i-${String(i).padStart(17, '0')}` }));
    const text = planText({ total: 25, regions: [{ region: R, changes: { instance: 25 } }], resources });
    expect(text).toContain(resources[19]!.id);
    expect(text).not.toContain(resources[20]!.id);
    expect(text).toMatch(/and 5 more$/);
  });
});

let sb: Sandbox;
let demo: DemoInfo;
let dir: string;
beforeAll(async () => {
  sb = await startTestSandbox();
  dir = mkdtempSync(join(tmpdir(), 'imds-guard-finish-'));
});
afterAll(() => sb.close());
beforeEach(async () => {
  sb.reset();
  demo = await seedDemo({ endpoint: sb.url, region: R });
});
const at = () => ['--endpoint-url', sb.url];

/** Like helpers.cli, with stdout a terminal of `columns` columns. */
async function onTerminal(argv: string[], columns: number, env: Record<string, string | undefined> = {}) {
  let stdout = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s), isTTY: true, columns },
    stderr: { write: () => undefined },
    interactive: false,
    env: { ...process.env, IDENTITY_GATE: 'warn', NO_COLOR: undefined, FORCE_COLOR: undefined, ...env },
  };
  const code = await run(argv, io);
  return { code, stdout };
}

describe('the table on the demo estate', () => {
  it('adapts to the terminal width and keeps the node group command whole on its own line', async () => {
    await cli(['enforce', '--yes', '--regions', R, ...at()]);
    for (const columns of [80, 120, 220]) {
      const { stdout } = await onTerminal(['scan', '--regions', R, '--all', ...at()], columns, { NO_COLOR: '1' });
      const lines = stdout.split('\n');
      const tableLines = lines.slice(
        3,
        lines.findIndex((l) => l.startsWith('Commands')),
      );
      for (const l of tableLines) expect(l.length, `${columns}: ${l}`).toBeLessThanOrEqual(columns);
      expect(lines.some((l) => NG_COMMAND.test(l) && /^\s+\[\d+\] aws eks/.test(l))).toBe(true);
      expect(stdout).toContain(demo.karpenterInstanceIds[0]!);
    }
  });

  it('colour on a terminal, none with NO_COLOR or when not a terminal, forced with FORCE_COLOR', async () => {
    expect((await onTerminal(['scan', '--regions', R, ...at()], 200)).stdout).toMatch(ANSI);
    expect((await onTerminal(['scan', '--regions', R, ...at()], 200, { NO_COLOR: '1' })).stdout).not.toMatch(ANSI);
    expect((await cli(['scan', '--regions', R, ...at()], { env: { NO_COLOR: undefined, FORCE_COLOR: undefined } })).stdout).not.toMatch(
      ANSI,
    );
    expect((await cli(['scan', '--regions', R, ...at()], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } })).stdout).toMatch(ANSI);
  });

  it('--quiet: only the final line (and the exit code); json output is unchanged', async () => {
    const q = await cli(['scan', '--regions', R, '--quiet', ...at()], { tty: true });
    expect(q.code).toBe(1);
    const full = await cli(['scan', '--regions', R, ...at()]);
    expect(q.stdout).toMatch(/^Exit 1: /);
    expect(q.stdout).not.toMatch(/REGION|Summary:/);
    expect(full.stdout.endsWith(q.stdout)).toBe(true); // the final part of the full output, nothing else
    expect(q.stderr).toBe(''); // no progress bars either
    const j = await cli(['scan', '--regions', R, '--quiet', '--output', 'json', ...at()]);
    expect(j.json().counts['would-remediate']).toBe(13); // the demo's 13 (test/cli/cli.test.ts says which)
  });
});

describe('errors that say what to do', () => {
  it('--profile nosuch: not in the config files, which profiles are, how to list them; no AWS call', async () => {
    const config = join(dir, 'config');
    writeFileSync(config, '[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-west-1\n[sso-session corp]\nsso_region = eu-west-1\n');
    writeFileSync(join(dir, 'credentials'), '[ci]\naws_access_key_id = x\n');
    const env = { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
    expect(listProfiles(env)).toEqual(['default', 'dev', 'ci']);
    const before = sb.stats().calls;
    const r = await cli(['scan', '--regions', R, '--profile', 'nosuch', ...at()], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/profile "nosuch" \(--profile\) is not in .*config or .*credentials \(profiles there: default, dev, ci\)/);
    expect(r.stderr).toMatch(/aws configure list-profiles/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(sb.stats().calls).toEqual(before);
    expect((await cli(['scan', '--regions', R, '--profile', 'dev', '--output', 'json', ...at()], { env })).stderr).not.toMatch(/not in/);
  });

  it('--regions eu-west-9 is rejected naming the Region and the nearest valid ones', async () => {
    const r = await cli(['scan', '--regions', 'eu-west-1,eu-west-9', ...at()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"eu-west-9" is not an AWS Region.*nearest: eu-west-1, eu-west-2, eu-west-3/);
  });
});

describe('enforce confirmation', () => {
  it('lists the resources it would change', async () => {
    const r = await cli(['enforce', '--regions', R, '--output', 'json', ...at()], { interactive: true, answer: 'n' });
    expect(r.stderr).toMatch(/Resources:/);
    for (const id of demo.expectedNonCompliantNodes) expect(r.stderr).toContain(id);
    expect(r.stderr).toContain(demo.nodegroups.analyticsCustom.launchTemplateId);
    expect(r.stderr).not.toMatch(/and \d+ more/);
  });
});
