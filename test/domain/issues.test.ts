import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { formatIssues } from '../../lib/domain/issues.js';

describe('formatIssues', () => {
  it('one "path: message" line per issue, the root label for an empty path', () => {
    expect(
      formatIssues(
        [
          { path: ['detail', 'items', 0, 'id'], message: 'Required' },
          { path: [], message: 'Not JSON' },
        ],
        '(event)',
      ),
    ).toEqual(['detail.items.0.id: Required', '(event): Not JSON']);
  });

  it('keeps the first `limit` issues', () => {
    const issues = ['a', 'b', 'c'].map((p) => ({ path: [p], message: 'bad' }));
    expect(formatIssues(issues, '(x)', 2)).toEqual(['a: bad', 'b: bad']);
    expect(formatIssues(issues, '(x)')).toHaveLength(3);
  });

  it('takes zod issues as they are', () => {
    const parsed = z.object({ MODE: z.enum(['enforce']) }).safeParse({ MODE: 'yolo' });
    expect(parsed.success).toBe(false);
    expect(formatIssues(parsed.error!.issues, '(env)')).toEqual([expect.stringMatching(/^MODE: /)]);
    const root = z.string().safeParse(1);
    expect(formatIssues(root.error!.issues, '(env)')).toEqual([expect.stringMatching(/^\(env\): /)]);
  });
});
