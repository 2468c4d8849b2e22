#!/usr/bin/env node
// The test runs `npm test` makes after tsc and lint (issue 16): every test on the sandbox, then the end-to-end
// suite (test/e2e) a second time against an independent emulator, moto_server, started here on a free loopback
// port and stopped at exit. Without moto (`python3 -c "import moto"` fails) the second run is skipped with one
// line. The last line adds both runs: "N passed, N failed".
// Usage: node scripts/test-runs.mjs            both runs (what `npm test` and CI run)
//        node scripts/test-runs.mjs --moto     the moto run alone (`npm run test:moto`)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'imds-guard-counts-'));
const vitest = join(process.cwd(), 'node_modules', '.bin', 'vitest');

/** One vitest run with `env` added; resolves to its counts (from test/summary-reporter.ts) and exit code. */
function run(name, args, env = {}) {
  const file = join(dir, `${name}.json`);
  return new Promise((resolve) => {
    const child = spawn(vitest, ['run', ...args], { stdio: 'inherit', env: { ...process.env, ...env, IMDS_GUARD_COUNTS_FILE: file } });
    child.on('exit', (code) => {
      let counts = { passed: 0, failed: 1, skipped: 0 };
      try {
        counts = JSON.parse(readFileSync(file, 'utf8'));
      } catch {}
      resolve({ code: code ?? 1, counts });
    });
  });
}

function motoVersion() {
  try {
    return execFileSync('python3', ['-c', 'import moto; print(moto.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts moto_server on loopback and waits (up to 30 s) until it answers. */
async function startMoto() {
  const port = await freePort();
  const proc = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) break;
    const up = await fetch(`${url}/moto-api/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { url, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error(`moto_server did not answer on ${url} within 30 s`);
}

/** The e2e suite against moto, one file at a time (one server, reset by each file's startTarget). */
async function motoRun() {
  const version = motoVersion();
  if (!version) {
    console.log('\nmoto not installed (python3 -c "import moto" fails): the e2e run against moto_server is skipped');
    return undefined;
  }
  const { url, proc } = await startMoto();
  const stop = () => proc.exitCode === null && proc.kill();
  process.on('exit', stop);
  console.log(`\ne2e suite against moto_server ${version} at ${url}`);
  try {
    return await run('moto', ['test/e2e', '--no-file-parallelism'], { IMDS_GUARD_E2E_ENDPOINT: url, IMDS_GUARD_E2E_EMULATOR: 'moto' });
  } finally {
    stop();
  }
}

const runs = [];
if (!process.argv.includes('--moto')) runs.push(await run('sandbox', []));
const moto = await motoRun();
if (moto) runs.push(moto);
rmSync(dir, { recursive: true, force: true });
const sum = (k) => runs.reduce((n, r) => n + r.counts[k], 0);
const each = runs.map((r, i) => `${i === 0 && !process.argv.includes('--moto') ? 'sandbox' : 'moto'} ${r.counts.passed}/${r.counts.failed}/${r.counts.skipped}`);
// The plain last line CI logs are read for; the one before says how it splits (passed/failed/skipped per run).
process.stdout.write(`\nboth runs (passed/failed/skipped): ${each.join(', ')}; ${sum('skipped')} skipped in all\n`);
process.stdout.write(`${sum('passed')} passed, ${sum('failed')} failed\n`);
process.exit(runs.some((r) => r.code !== 0) ? 1 : 0);
