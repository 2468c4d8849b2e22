#!/usr/bin/env node
// imds-guard CLI entry: the bundled dist/cli.mjs when built (and, in a checkout, built after the last change to
// cli/ or lib/), otherwise the TypeScript sources through tsx. A stale bundle never hides newer code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = join(root, 'dist', 'cli.mjs');
const sources = ['cli', 'lib'].map((d) => join(root, d)).filter((d) => existsSync(d));

/** The newest modification time of the TypeScript sources (0 when there are none: an installed package). */
function newestSource() {
  let newest = 0;
  for (const dir of sources)
    for (const f of readdirSync(dir, { recursive: true }))
      if (String(f).endsWith('.ts')) newest = Math.max(newest, statSync(join(dir, String(f))).mtimeMs);
  return newest;
}

let cli;
if (existsSync(bundled) && statSync(bundled).mtimeMs >= newestSource()) {
  cli = await import(pathToFileURL(bundled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(pathToFileURL(join(root, 'cli', 'main.ts')).href);
}
await cli.main(process.argv.slice(2));
