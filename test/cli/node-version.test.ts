// The Node version line says what the pinned SDK says, and package.json `engines` is no looser than the SDK's.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { nodeNotice, SDK_NEXT_NODE_MAJOR, takeNodeNotice } from '../../cli/node-version.js';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
};
const lowest = (range: string) => (range.match(/>=\s*(\d+)(?:\.(\d+))?/)?.slice(1, 3) ?? ['0', '0']).map(Number) as [number, number];
const atLeast = ([a, b]: [number, number], [c, d]: [number, number]) => a > c || (a === c && b >= d);

describe('Node versions', () => {
  it("the line's Node major is the one the SDK's own notice names (@aws-sdk/core emitWarningIfUnsupportedVersion)", () => {
    const src = readFileSync(
      require.resolve('@aws-sdk/core/package.json').replace(/package\.json$/, 'dist-cjs/submodules/client/index.js'),
      'utf8',
    );
    const notice = src.slice(src.indexOf('emitWarningIfUnsupportedVersion'));
    expect(notice).toMatch(/first week of January 2027/);
    expect(Number(notice.match(/const vv = (\d+)/)?.[1])).toBe(SDK_NEXT_NODE_MAJOR);
  });

  it('engines.node is at least what every pinned @aws-sdk/* package requires', () => {
    const ours = lowest(pkg.engines.node);
    const sdk = Object.keys(pkg.dependencies).filter((d) => d.startsWith('@aws-sdk/'));
    expect(sdk.length).toBeGreaterThan(5);
    for (const d of sdk) {
      const engines = (require(`${d}/package.json`) as { engines?: { node?: string } }).engines?.node ?? '';
      expect(atLeast(ours, lowest(engines)), `${d} needs ${engines}`).toBe(true);
    }
  });

  it('one line on Node < 22, none on 22+ or when the SDK switch is set by the user', () => {
    expect(nodeNotice('v20.19.0', {})).toMatch(/^Node v20\.19\.0: .*after the first week of January 2027 need Node >= 22/);
    expect(nodeNotice('v20.19.0', {})).not.toContain('\n');
    expect(nodeNotice('v22.0.0', {})).toBeUndefined();
    expect(nodeNotice('v24.1.0', {})).toBeUndefined();
    expect(nodeNotice('v18.20.0', { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' })).toBeUndefined();
  });

  it("takeNodeNotice turns the SDK's own notice off, and only that switch", () => {
    const env: Record<string, string | undefined> = { OTHER: 'x' };
    expect(takeNodeNotice('v20.1.0', env)).toBeDefined();
    expect(env).toEqual({ OTHER: 'x', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  });
});
