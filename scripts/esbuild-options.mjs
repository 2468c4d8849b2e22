// esbuild settings shared by `npm run build`, the cold-start benchmark and the bundle tests.
import { lambdaCredentials, noEventStreams, pureSchemas } from './esbuild-plugins.cjs';

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

// Lambda function bundles: as above, plus the Lambda credential chain in place of the SDK's default one.
export const functionOptions = { ...esmOptions, plugins: [pureSchemas, lambdaCredentials, noEventStreams] };
