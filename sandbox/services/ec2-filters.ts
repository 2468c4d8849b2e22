// EC2 `Filter.N` matching: values are ORed, filters are ANDed, `*` and `?` are wildcards.
import { AwsError } from '../errors.js';
import type { Tags } from '../state.js';

export interface Filter {
  Name?: string;
  Values?: string[];
}

function toRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** `fields` maps a filter name to the candidate values of one item. */
export type FieldGetter<T> = (item: T) => (string | number | undefined)[];

export function tagFields<T>(tags: (item: T) => Tags): Record<string, FieldGetter<T>> {
  return {
    'tag-key': (i) => Object.keys(tags(i)),
    'tag-value': (i) => Object.values(tags(i)),
  };
}

export function applyFilters<T>(
  items: T[],
  filters: Filter[] | undefined,
  fields: Record<string, FieldGetter<T>>,
  tags: (item: T) => Tags,
): T[] {
  if (!filters?.length) return items;
  const preds = filters.map((f) => {
    const name = f.Name ?? '';
    const res = (f.Values ?? []).map(toRegex);
    let get: FieldGetter<T> | undefined = fields[name];
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      get = (i) => [tags(i)[key]];
    }
    if (!get) throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
    const g = get;
    return (i: T) => g(i).some((v) => v !== undefined && res.some((r) => r.test(String(v))));
  });
  return items.filter((i) => preds.every((p) => p(i)));
}
