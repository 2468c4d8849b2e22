// Bundle each Lambda in functions/ into one tree-shaken ESM file, SDK included.
import { build } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const entries = readdirSync('functions').filter((f) => f.endsWith('.ts'));
export const esmOptions = {
  bundle: true,
  minify: true,
  treeShaking: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  // Prefer the SDK's ES module builds: smaller and faster to load than dist-cjs (REFERENCE §8).
  mainFields: ['module', 'main'],
  outExtension: { '.js': '.mjs' },
  // Some transitive dependencies still call require(); give ESM a real one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
};

for (const f of entries) {
  const name = basename(f, '.ts');
  await build({ ...esmOptions, entryPoints: [join('functions', f)], outfile: join('dist', name, 'index.mjs') });
  const kb = (statSync(join('dist', name, 'index.mjs')).size / 1024).toFixed(0);
  console.log(`dist/${name}/index.mjs  ${kb} KB`);
}
