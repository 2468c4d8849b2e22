// Validation issues as one line each, for logs, rejections and config errors. Pure.

/** The part of a zod issue the line is made of (zod's `$ZodIssue` fits). */
export interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * One `path: message` line per issue; `rootLabel` stands in for an empty path (the whole input).
 * `limit` keeps the first issues only.
 *
 * @example
 * formatIssues([{ path: ['detail', 'eventID'], message: 'Invalid input' }, { path: [], message: 'bad' }], '(event)');
 * // => ['detail.eventID: Invalid input', '(event): bad']
 */
export function formatIssues(issues: readonly Issue[], rootLabel: string, limit = Number.POSITIVE_INFINITY): string[] {
  return issues.slice(0, limit).map((i) => `${i.path.map(String).join('.') || rootLabel}: ${i.message}`);
}
