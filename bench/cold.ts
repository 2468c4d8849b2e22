// Cold start: bundle size and init time (import + client construction) of each function, side by side
// with a CommonJS bundle of the same handler built from the SDK's dist-cjs (the "full SDK" baseline).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { functionOptions } from '../scripts/esbuild-options.mjs';

const RUNS = Number(process.env.COLD_RUNS ?? 11);
// COLD_NODE=/path/to/node measures under another Node, e.g. 22 like the Lambda runtime.
const NODE = process.env.COLD_NODE ?? process.execPath;
const OUT = resolve('dist/bench-cold');
const env = {
  ...process.env,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:t',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_SUPPRESS_WARNINGS: '1',
  SLACK_WEBHOOK_PARAMETER: 'ssm:/imds-guard/slack/default',
  REMEDIATION_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/imds-guard-prod-remediation',
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One fresh process per sample: nothing is cached between them. */
function initMs(file: string): number {
  const loader = file.endsWith('.cjs') ? `require(${JSON.stringify(file)})` : `await import(${JSON.stringify(file)})`;
  const code = `const t = performance.now(); ${loader}; process.stdout.write(String(performance.now() - t));`;
  const r = spawnSync(
    NODE,
    [
      '--input-type=module',
      '-e',
      file.endsWith('.cjs') ? `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); ${code}` : code,
    ],
    { env, encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(
      `init of ${file} failed: ${r.stderr
        .split('\n')
        .filter((l) => /Error/.test(l))
        .slice(0, 2)
        .join(' ')
        .slice(0, 300)}`,
    );
  return Number(r.stdout);
}

const rows: string[][] = [];
for (const f of readdirSync('functions').filter((f) => f.endsWith('.ts'))) {
  const name = basename(f, '.ts');
  const esm = join(OUT, `${name}.mjs`);
  const cjs = join(OUT, `${name}.cjs`);
  await build({ ...functionOptions, entryPoints: [join('functions', f)], outfile: esm, logLevel: 'error' });
  await build({
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['main'],
    entryPoints: [join('functions', f)],
    outfile: cjs,
    logLevel: 'error',
  });
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Interleave so machine noise hits both alike.
    a.push(initMs(esm));
    b.push(initMs(cjs));
  }
  const [kbA, kbB] = [statSync(esm).size / 1024, statSync(cjs).size / 1024];
  const [mA, mB] = [median(a), median(b)];
  rows.push([
    name,
    kbA.toFixed(0),
    kbB.toFixed(0),
    mA.toFixed(1),
    mB.toFixed(1),
    (mA / mB).toFixed(2),
    kbA < 600 && mA / mB <= 0.5 ? 'yes' : 'NO',
  ]);
}

const head = ['function', 'ESM KB', 'CJS KB', 'ESM init ms', 'CJS init ms', 'ratio', 'target met'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(
  `cold start: median of ${RUNS} fresh processes each (node ${spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim()}); targets: ESM < 600 KB, init <= 0.5x CJS`,
);
console.log(line(head));
for (const r of rows) console.log(line(r));
