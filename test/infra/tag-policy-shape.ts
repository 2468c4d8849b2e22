// Shape check for AWS Organizations tag policies (management-policy grammar, `tags` type only).
// Stricter than Organizations on purpose: only the fields this repository uses or documents.

export interface TagPolicyIssue {
  path: string;
  message: string;
}

const OPERATORS = new Set(['@@assign', '@@append', '@@remove', '@@operators_allowed_for_child_policies']);
const FIELDS = new Set(['tag_key', 'tag_value', 'enforced_for', 'report_required_tag_for']);
/** `service:resourceType`, `service:ALL_SUPPORTED` or `service:*`. */
const RESOURCE_TYPE = /^[a-z0-9-]+:([A-Za-z0-9-]+|ALL_SUPPORTED|\*)$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkOperators(node: unknown, path: string, issues: TagPolicyIssue[]): Record<string, unknown> | undefined {
  if (!isObject(node) || Object.keys(node).length === 0) {
    issues.push({ path, message: 'must be an object of inheritance operators' });
    return undefined;
  }
  for (const op of Object.keys(node)) if (!OPERATORS.has(op)) issues.push({ path: `${path}.${op}`, message: `unknown operator "${op}"` });
  return node;
}

function checkStringList(value: unknown, path: string, issues: TagPolicyIssue[], item?: RegExp): void {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string')) {
    issues.push({ path, message: 'must be a non-empty list of strings' });
    return;
  }
  for (const v of value as string[]) if (item && !item.test(v)) issues.push({ path, message: `"${v}" is not service:resourceType` });
}

function checkTagEntry(policyKey: string, entry: unknown, issues: TagPolicyIssue[]): void {
  const path = `tags.${policyKey}`;
  if (!isObject(entry)) {
    issues.push({ path, message: 'must be an object' });
    return;
  }
  for (const field of Object.keys(entry))
    if (!FIELDS.has(field)) issues.push({ path: `${path}.${field}`, message: `unknown field "${field}"` });
  const key = checkOperators(entry.tag_key, `${path}.tag_key`, issues);
  const assigned = key?.['@@assign'];
  if (typeof assigned !== 'string') issues.push({ path: `${path}.tag_key.@@assign`, message: 'must be the tag key string' });
  // The policy key is case-insensitive but must otherwise equal the tag key.
  else if (assigned.toLowerCase() !== policyKey.toLowerCase()) {
    issues.push({ path: `${path}.tag_key`, message: `tag key "${assigned}" does not match policy key "${policyKey}"` });
  }
  if ('tag_value' in entry) {
    const node = checkOperators(entry.tag_value, `${path}.tag_value`, issues);
    if (node) checkStringList(node['@@assign'], `${path}.tag_value.@@assign`, issues);
  }
  if ('enforced_for' in entry) {
    const node = checkOperators(entry.enforced_for, `${path}.enforced_for`, issues);
    if (node) checkStringList(node['@@assign'], `${path}.enforced_for.@@assign`, issues, RESOURCE_TYPE);
  }
}

/**
 * Every shape problem of a tag policy document; an empty list means it is well formed.
 * @example validateTagPolicy({ tags: { env: { tag_key: { '@@assign': 'env' } } } }) // => []
 */
export function validateTagPolicy(document: unknown): TagPolicyIssue[] {
  const issues: TagPolicyIssue[] = [];
  if (!isObject(document) || Object.keys(document).join() !== 'tags' || !isObject(document.tags)) {
    return [{ path: '$', message: 'a tag policy has exactly one top-level key, "tags", holding an object' }];
  }
  for (const [policyKey, entry] of Object.entries(document.tags)) checkTagEntry(policyKey, entry, issues);
  return issues;
}
