// Where the bytes of a function bundle come from: `node scripts/bundle-report.mjs functions/x.ts`.
import { build } from 'esbuild';
import { functionOptions } from './esbuild-options.mjs';
const r = await build({
  ...functionOptions,
  entryPoints: [process.argv[2] ?? 'functions/enforce-instances.ts'],
  outfile: 'dist/.report.mjs',
  metafile: true,
  logLevel: 'silent',
});
const by = {};
for (const [f, i] of Object.entries(r.metafile.outputs['dist/.report.mjs'].inputs)) {
  const m = f.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  const k = m ? m[1] : f.split('/').slice(0, 2).join('/');
  by[k] = (by[k] ?? 0) + i.bytesInOutput;
}
for (const [k, v] of Object.entries(by)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 25))
  console.log((v / 1024).toFixed(0).padStart(6), k);
