// Planning new launch template versions: $Latest keeps its content, and earlier fixes are reused.
import { describe, expect, it } from 'vitest';
import {
  buriedLatest,
  judgeVersions,
  planFixes,
  planTemplateFixes,
  type TemplateInfo,
  type TemplateVersion,
} from '../../lib/domain/template-versions.js';

const policy = { maxHopLimit: 1 };
const bad = { httpTokens: 'optional' as const, hopLimit: 2 };
const good = { httpTokens: 'required' as const, hopLimit: 1 };
const fixed = { httpTokens: 'required' as const, hopLimit: 1 };
const tpl = (d: number, l: number): TemplateInfo => ({
  id: 'lt-0123456789abcdef0',
  name: 'nodes',
  defaultVersion: d,
  latestVersion: l,
  tags: {},
});
const v = (version: number, mo?: TemplateVersion['metadataOptions'], description?: string): TemplateVersion => ({
  version,
  ...(mo ? { metadataOptions: mo } : {}),
  instanceTags: {},
  ...(description ? { description } : {}),
});
const fixOf = (n: number) => `imds-guard: MetadataOptions fixed from version ${n} (HttpTokens=required, hop limit <= 1)`;
const plan = (d: number, l: number, versions: TemplateVersion[]) =>
  planTemplateFixes(judgeVersions(tpl(d, l), versions, policy), policy, versions);
const summary = (fs: ReturnType<typeof plan>) =>
  fs.map((f) => ({ source: f.sourceVersion, kind: f.kind, makeDefault: f.makeDefault, ...(f.reuse ? { reuse: f.reuse } : {}) }));

describe('planTemplateFixes: $Latest keeps its content', () => {
  it('bad default, good newer latest: fix the default, then the latest again, unchanged', () => {
    const fixes = plan(1, 2, [v(1, bad), v(2, good)]);
    expect(summary(fixes)).toEqual([
      { source: 1, kind: 'fix', makeDefault: true },
      { source: 2, kind: 'latest', makeDefault: false },
    ]);
    expect(fixes[1]).toMatchObject({
      metadataOptions: good,
      violations: [],
      description: expect.stringMatching(/^imds-guard: copy of version 2/),
    });
  });

  it('bad default and bad latest: each fixed, the latest last; no extra copy', () => {
    expect(summary(plan(1, 3, [v(1, bad), v(3, bad)]))).toEqual([
      { source: 1, kind: 'fix', makeDefault: true },
      { source: 3, kind: 'fix', makeDefault: false },
    ]);
  });

  it('default = latest, or only the latest bad: one fix, nothing buried', () => {
    expect(summary(plan(2, 2, [v(2, bad)]))).toEqual([{ source: 2, kind: 'fix', makeDefault: true }]);
    expect(summary(plan(1, 2, [v(1, good), v(2, bad)]))).toEqual([{ source: 2, kind: 'fix', makeDefault: false }]);
  });

  it('a node group pinned below a bad latest: the pinned version fixed, then the latest fixed too', () => {
    const fixes = planFixes([{ version: 1, makeDefault: false }], 3, [v(1, bad), v(2, good), v(3, bad)], policy);
    expect(summary(fixes)).toEqual([
      { source: 1, kind: 'fix', makeDefault: false },
      { source: 3, kind: 'latest', makeDefault: false },
    ]);
    expect(fixes[1]).toMatchObject({
      metadataOptions: fixed,
      violations: expect.arrayContaining([expect.stringContaining('HttpTokens')]),
      description: fixOf(3),
    });
  });
});

describe('planTemplateFixes: a retried event', () => {
  it('reuses an earlier fix of the default and creates nothing that would bury the latest', () => {
    // An earlier run made 3 (fix of 1) and 4 (copy of 2), then failed to move the default.
    const versions = [
      v(1, bad),
      v(2, good),
      v(3, fixed, fixOf(1)),
      v(4, good, 'imds-guard: copy of version 2, so $Latest keeps its content after version 1 was fixed'),
    ];
    expect(summary(plan(1, 4, versions))).toEqual([{ source: 1, kind: 'fix', makeDefault: true, reuse: 3 }]);
  });

  it('repeats the latest an interrupted run buried (its fix of the default became $Latest, the copy failed)', () => {
    const versions = [v(1, bad), v(2, good), v(3, fixed, fixOf(1))];
    expect(summary(plan(1, 3, versions))).toEqual([
      { source: 1, kind: 'fix', makeDefault: true, reuse: 3 },
      { source: 2, kind: 'latest', makeDefault: false },
    ]);
  });

  it('buriedLatest: not for the states a complete run leaves', () => {
    expect(buriedLatest([v(1, bad), v(2, fixed, fixOf(1))], 2)).toBeUndefined();
    expect(buriedLatest([v(1, bad), v(2, bad), v(3, fixed, fixOf(1)), v(4, fixed, fixOf(2))], 4)).toBeUndefined();
    // The version right before is gone (deleted): nothing can be said, so nothing is done.
    expect(buriedLatest([v(1, bad), v(3, fixed, fixOf(1))], 3)).toBeUndefined();
    expect(buriedLatest([v(1, bad), v(2, good), v(3, fixed, fixOf(1))], 3)).toBe(2);
  });
});
