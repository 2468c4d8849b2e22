// Bundle size is a budget (issue 7: under 600 KB per function), guarded here so an import that drags
// in a whole SDK client or classic zod fails the build. Time is measured only in `npm run bench:cold`.
import { build, type Metafile } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionOptions } from '../../scripts/esbuild-options.mjs';

const ROOT = join(import.meta.dirname, '../..');
const BUDGET_KB = 600;
/**
 * The backfill is the org-wide durable execution (issue 14): the durable execution SDK (~89 KB) with its checkpoint
 * client (@aws-sdk/client-lambda, ~120 KB: the SDK imports the aggregated client) and Organizations (~30 KB).
 */
const BUDGETS_KB: Record<string, number> = { 'backfill.ts': 850 };
const functions = readdirSync(join(ROOT, 'functions')).filter((f) => f.endsWith('.ts'));
const built = new Map<string, { kb: number; metafile: Metafile }>();

beforeAll(async () => {
  for (const f of functions) {
    const out = await build({
      ...functionOptions,
      entryPoints: [join(ROOT, 'functions', f)],
      outfile: 'out.mjs',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(out.outputFiles).toHaveLength(1);
    built.set(f, { kb: out.outputFiles[0]!.contents.byteLength / 1024, metafile: out.metafile });
  }
}, 60_000);

describe('function bundles', () => {
  it.each(functions)(`%s bundles to one ESM file under ${BUDGET_KB} KB (the backfill ${BUDGETS_KB['backfill.ts']})`, (f) => {
    expect(built.get(f)!.kb).toBeLessThan(BUDGETS_KB[f] ?? BUDGET_KB);
  });

  // Profiles, SSO, sign-in, process and web identity cannot apply inside Lambda (lib/shell/lambda-credentials.ts).
  it.each(functions)('%s carries the Lambda credential chain, not the SDK default one', (f) => {
    const inputs = Object.keys(built.get(f)!.metafile.inputs);
    expect(
      inputs.filter((p) =>
        /@aws-sdk\/(credential-provider-(node|ini|sso|process|web-identity|login)|nested-clients|token-providers)\//.test(p),
      ),
    ).toEqual([]);
    expect(inputs.some((p) => p.endsWith('lib/shell/lambda-credentials.ts'))).toBe(true);
  });

  // The SDK's protocol layer imports the event-stream codec on demand; only the backfill's Lambda client
  // (which has streaming operations) imports it for real.
  it.each(functions.filter((f) => f !== 'backfill.ts'))('%s leaves out the on-demand event-stream codec', (f) => {
    const inputs = Object.keys(built.get(f)!.metafile.inputs);
    expect(inputs.filter((p) => /@smithy\/core\/dist-es\/submodules\/event-streams\/(EventStreamSerde|eventstream-codec)/.test(p))).toEqual(
      [],
    );
  });
});
