#!/usr/bin/env node
// Size limits for product code (issue 12): no file in lib/ or cli/ over 250 lines, no line over 140 characters.
// Function length (60 lines) is Biome's complexity/noExcessiveLinesPerFunction (biome.json).
// Usage: node scripts/check-size.mjs [folder...]   (default: lib cli). Exits 1 and lists offenders.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const MAX_LINES = 250;
const MAX_COLUMNS = 140;
const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;

/** Every source file under `dir`, depth first, sorted. */
function sources(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : SOURCE.test(e.name) ? [join(dir, e.name)] : []));
}

/** The offences of one file's text: too many lines, and each line that is too long. */
function offences(file, text) {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const found = [];
  if (lines.length > MAX_LINES) found.push(`${file}: ${lines.length} lines (max ${MAX_LINES})`);
  lines.forEach((line, i) => {
    const width = [...line].length;
    if (width > MAX_COLUMNS) found.push(`${file}:${i + 1}: ${width} characters (max ${MAX_COLUMNS})`);
  });
  return found;
}

const folders = process.argv.length > 2 ? process.argv.slice(2) : ['lib', 'cli'];
const files = folders.flatMap((f) => sources(f));
const found = files.flatMap((f) => offences(relative(process.cwd(), f), readFileSync(f, 'utf8')));
if (found.length) {
  console.error(`check-size: ${found.length} offence(s) in ${folders.join(', ')}:`);
  for (const line of found) console.error(`  ${line}`);
  process.exitCode = 1;
} else {
  console.log(`check-size: ${files.length} files in ${folders.join(', ')} within ${MAX_LINES} lines and ${MAX_COLUMNS} characters a line`);
}
