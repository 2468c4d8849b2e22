// Bundle size is a budget (issue 7: under 600 KB per function), guarded here so an import that drags
// in a whole SDK client or classic zod fails the build. Time is measured only in `npm run bench:cold`.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { esmOptions } from '../../scripts/esbuild-options.mjs';

const ROOT = join(import.meta.dirname, '../..');
const BUDGET_KB = 600;
const functions = readdirSync(join(ROOT, 'functions')).filter((f) => f.endsWith('.ts'));

describe('function bundles', () => {
  it.each(functions)(`%s bundles to one ESM file under ${BUDGET_KB} KB`, async (f) => {
    const out = await build({ ...esmOptions, entryPoints: [join(ROOT, 'functions', f)], outfile: 'out.mjs', write: false, logLevel: 'silent' });
    expect(out.outputFiles).toHaveLength(1);
    const kb = out.outputFiles[0]!.contents.byteLength / 1024;
    expect(kb).toBeLessThan(BUDGET_KB);
  });
});
