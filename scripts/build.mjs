// Bundle each Lambda in functions/ into one tree-shaken ESM file, SDK included.
import { build } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { esmOptions, functionOptions } from './esbuild-options.mjs';

for (const f of readdirSync('functions').filter((f) => f.endsWith('.ts'))) {
  const name = basename(f, '.ts');
  const outfile = join('dist', name, 'index.mjs');
  await build({ ...functionOptions, entryPoints: [join('functions', f)], outfile });
  console.log(`${outfile}  ${(statSync(outfile).size / 1024).toFixed(0)} KB`);
}

// The CLI, bundled the same way: `bin/imds-guard.mjs` prefers it to running the sources through tsx.
await build({ ...esmOptions, entryPoints: ['cli/main.ts'], outfile: 'dist/cli.mjs' });
console.log(`dist/cli.mjs  ${(statSync('dist/cli.mjs').size / 1024).toFixed(0)} KB`);
