#!/usr/bin/env node
// imds-guard CLI entry: the bundled dist/cli.mjs when built, otherwise the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = join(root, 'dist', 'cli.mjs');

let cli;
if (existsSync(bundled)) {
  cli = await import(pathToFileURL(bundled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(pathToFileURL(join(root, 'cli', 'main.ts')).href);
}
await cli.main(process.argv.slice(2));
