// bin/imds-guard.mjs picks the bundle or the sources: a bundle older than the sources in a checkout must not hide
// newer code (it did: a stale `npm run build` output ran instead of the edited CLI). A scratch tree with the real
// bin script, a stand-in bundle and stand-in sources, each printing which one ran.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(o: { sources: boolean }): { root: string; run: () => string; age: (path: string, seconds: number) => void } {
  const root = mkdtempSync(join(tmpdir(), 'imds-guard-bin-'));
  dirs.push(root);
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  copyFileSync(join(repo, 'bin', 'imds-guard.mjs'), join(root, 'bin', 'imds-guard.mjs'));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  mkdirSync(join(root, 'dist'));
  writeFileSync(join(root, 'dist', 'cli.mjs'), "export async function main() { console.log('bundle'); }\n");
  if (o.sources) {
    mkdirSync(join(root, 'cli'));
    mkdirSync(join(root, 'lib', 'shell'), { recursive: true });
    writeFileSync(join(root, 'cli', 'main.ts'), "export async function main(): Promise<void> { console.log('source'); }\n");
    writeFileSync(join(root, 'lib', 'shell', 'x.ts'), 'export const x: number = 1;\n');
  }
  const age = (path: string, seconds: number) => {
    const t = new Date(Date.now() - seconds * 1000);
    utimesSync(join(root, path), t, t);
  };
  const run = () => execFileSync(process.execPath, [join(root, 'bin', 'imds-guard.mjs')], { encoding: 'utf8' }).trim();
  return { root, run, age };
}

describe('bin/imds-guard.mjs', () => {
  it('runs the bundle when it was built after the last source change', () => {
    const t = tree({ sources: true });
    t.age('cli/main.ts', 60);
    t.age('lib/shell/x.ts', 60);
    expect(t.run()).toBe('bundle');
  });

  it('runs the sources when one of them changed after the bundle was built (a stale build)', () => {
    const t = tree({ sources: true });
    t.age('dist/cli.mjs', 60);
    t.age('cli/main.ts', 120);
    // A file deep in lib/ edited after the build.
    expect(t.run()).toBe('source');
  });

  it('runs the bundle where there are no sources (an installed package)', () => {
    expect(tree({ sources: false }).run()).toBe('bundle');
  });
});
