// One real process: `node bin/imds-guard.mjs scan --endpoint-url …` (tsx, or dist/cli.mjs when built).
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoInfo } from '../../sandbox/scenarios/demo.js';
import type { Sandbox } from '../../sandbox/server.js';
import { startTestSandbox } from '../helpers/sandbox.js';

const BIN = fileURLToPath(new URL('../../bin/imds-guard.mjs', import.meta.url));
let sb: Sandbox;
let demo: DemoInfo;

beforeAll(async () => {
  sb = await startTestSandbox();
  demo = await seedDemo({ endpoint: sb.url, region: 'eu-west-1' });
});
afterAll(() => sb.close());

/** The CLI's environment: fake keys, and no endpoint other than the one a test passes. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'AKIDSPAWN',
    AWS_SECRET_ACCESS_KEY: 'spawn',
    AWS_REGION: 'eu-west-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    // The documented switch for the Node version line (its own test below runs without it).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  delete env.AWS_ENDPOINT_URL;
  return env;
}

function spawnCli(args: string[], env = cliEnv()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('bin/imds-guard.mjs', () => {
  it('scan --endpoint-url: exit 1 with the violations as JSON on stdout, nothing on stderr', async () => {
    const r = await spawnCli(['scan', '--endpoint-url', sb.url, '--regions', 'eu-west-1', '--output', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(
      j.records.filter(
        (x: { outcome: string; resource: { type: string } }) => x.outcome === 'would-remediate' && x.resource.type === 'instance',
      ),
    ).toHaveLength(demo.expectedNonCompliantNodes.length);
  }, 60_000);

  it('on Node < 22: one line about the SDK needing Node >= 22 instead of its nine-line notice; other warnings still show', async () => {
    const env = cliEnv();
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    // Preloaded: a process warning unrelated to the SDK, which the CLI must not hide.
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=data:text/javascript,process.emitWarning(%22imds-guard-test-warning%22)`;
    const r = await spawnCli(['scan', '--endpoint-url', sb.url, '--regions', 'eu-west-1', '--output', 'json'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning/);
    expect(r.stderr).toMatch(/imds-guard-test-warning/); // a real warning is not hidden
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('imds-guard: Node'));
    if (Number(process.versions.node.split('.')[0]) < 22) {
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatch(/after the first week of January 2027 need Node >= 22/);
    } else expect(ours).toEqual([]);
  }, 60_000);

  it('a usage error exits 2 with one line', async () => {
    const r = await spawnCli(['enforce', '--endpoint-url', sb.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^imds-guard: enforce changes resources: pass --yes/);
  }, 60_000);

  it('enforce piped into a reader that leaves at once: no EPIPE crash, and the run still finishes', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'enforce', '--yes', '--endpoint-url', sb.url, '--regions', 'eu-west-1', '--output', 'json'],
      { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.destroy(); // like `| head -0`: every write to stdout now fails with EPIPE
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect([0, 1]).toContain(code);
    for (const id of demo.expectedNonCompliantNodes) {
      const m = sb.state.region('eu-west-1').instances.get(id)!.metadata;
      expect([m.HttpTokens, m.HttpPutResponseHopLimit], id).toEqual(['required', 1]);
    }
  }, 60_000);
});
