// esbuild settings shared by `npm run build` and the cold-start benchmark.
import { pureSchemas } from './esbuild-plugins.cjs';

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
  plugins: [pureSchemas],
  logLevel: 'warning',
};
