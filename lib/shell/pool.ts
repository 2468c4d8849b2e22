// A bounded pool with a report per finished item: the backfill's kinds plan and apply their targets this way.
import pLimit from 'p-limit';

/**
 * Run `each` over `items`, at most `size` at a time, calling `done` with each result as it finishes (so its
 * records are logged when decided); resolves with the results in the items' order.
 *
 * @example
 * const plans = await pooled(targets, 4, (t) => planTemplate(t, trigger, run), (p) => p.records.forEach(log));
 */
export async function pooled<T, R>(items: T[], size: number, each: (t: T) => Promise<R>, done: (r: R) => void): Promise<R[]> {
  const pool = pLimit(size);
  return Promise.all(
    items.map((t) =>
      pool(async () => {
        const r = await each(t);
        done(r);
        return r;
      }),
    ),
  );
}
