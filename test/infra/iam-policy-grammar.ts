// A small, strict validator for IAM policy documents (and SCPs), used by the
// infra tests. It is deliberately stricter than IAM: condition keys must come
// from an allow-list of keys we are sure exist, so a typo such as
// `ec2:MetadataHttpToken` fails here instead of silently never matching in AWS
// (IAM accepts unknown keys; a Deny whose key is never present does nothing).

export interface PolicyIssue {
  /** JSON-path-like location, e.g. `Statement[2].Condition.StringNotEquals`. */
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** Apply SCP rules: no Principal/NotPrincipal, 5,120-character size limit. */
  scp?: boolean;
}

/** IAM condition operators, without the `IfExists` suffix or set qualifiers. */
const BASE_CONDITION_OPERATORS: readonly string[] = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
];

/** Condition keys we are sure about (compared case-insensitively, like IAM). */
const KNOWN_CONDITION_KEYS: readonly string[] = [
  // Global keys
  'aws:PrincipalArn',
  'aws:PrincipalAccount',
  'aws:PrincipalOrgID',
  'aws:PrincipalOrgPaths',
  'aws:PrincipalType',
  'aws:PrincipalIsAWSService',
  'aws:PrincipalServiceName',
  'aws:RequestedRegion',
  'aws:SourceIp',
  'aws:SourceVpc',
  'aws:SourceVpce',
  'aws:SourceAccount',
  'aws:SourceArn',
  'aws:SecureTransport',
  'aws:ViaAWSService',
  'aws:CalledVia',
  'aws:MultiFactorAuthPresent',
  'aws:MultiFactorAuthAge',
  'aws:CurrentTime',
  'aws:userid',
  'aws:username',
  'aws:TagKeys',
  'aws:ResourceAccount',
  // EC2 instance metadata keys
  'ec2:MetadataHttpTokens',
  'ec2:MetadataHttpPutResponseHopLimit',
  'ec2:MetadataHttpEndpoint',
  'ec2:Attribute/HttpTokens',
  'ec2:Attribute/HttpPutResponseHopLimit',
  'ec2:Attribute/HttpEndpoint',
  'ec2:RoleDelivery',
  // Other EC2 keys
  'ec2:Region',
  'ec2:InstanceType',
  // Tag-on-create: set when CreateTags is authorised as part of RunInstances, CreateFleet, ...
  'ec2:CreateAction',
  // SNS Subscribe keys, KMS keys (key policies)
  'sns:Protocol',
  'sns:Endpoint',
  'kms:ViaService',
  'kms:CallerAccount',
];

/** Keys whose request value is a list: IAM needs ForAnyValue / ForAllValues to compare them as sets. */
const MULTIVALUED_CONDITION_KEYS: readonly string[] = ['aws:TagKeys', 'aws:CalledVia', 'aws:PrincipalOrgPaths'];

/** Keys that take a user-chosen suffix (tag keys). */
const KNOWN_CONDITION_KEY_PREFIXES: readonly string[] = [
  'aws:RequestTag/',
  'aws:ResourceTag/',
  'aws:PrincipalTag/',
  'ec2:ResourceTag/',
  'autoscaling:ResourceTag/',
  'kms:EncryptionContext:',
];

const TOP_LEVEL_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
/** `service:Action`, wildcards allowed in the action part, or a bare `*`. */
const ACTION_PATTERN = /^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/;
const SID_PATTERN = /^[A-Za-z0-9]*$/;
const NUMERIC_PATTERN = /^-?\d+(\.\d+)?$/;
export const SCP_MAX_CHARS = 5120;

export interface ParsedOperator {
  base: string;
  ifExists: boolean;
  setQualifier?: 'ForAllValues' | 'ForAnyValue';
}

/** Parses `ForAnyValue:StringLikeIfExists` and friends; null if not an IAM operator. */
export function parseConditionOperator(operator: string): ParsedOperator | null {
  let rest = operator;
  let setQualifier: ParsedOperator['setQualifier'];
  const qualifier = /^(ForAllValues|ForAnyValue):/.exec(rest);
  if (qualifier) {
    setQualifier = qualifier[1] as ParsedOperator['setQualifier'];
    rest = rest.slice(qualifier[0].length);
  }
  const ifExists = rest.endsWith('IfExists');
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  if (!BASE_CONDITION_OPERATORS.includes(rest)) return null;
  // Null checks presence itself: neither IfExists nor a set qualifier makes sense.
  if (rest === 'Null' && (ifExists || setQualifier)) return null;
  return setQualifier ? { base: rest, ifExists, setQualifier } : { base: rest, ifExists };
}

export function isKnownConditionKey(key: string): boolean {
  const lower = key.toLowerCase();
  if (KNOWN_CONDITION_KEYS.some((k) => k.toLowerCase() === lower)) return true;
  return KNOWN_CONDITION_KEY_PREFIXES.some((prefix) => lower.startsWith(prefix.toLowerCase()) && key.length > prefix.length);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function checkStringList(value: unknown, path: string, issues: PolicyIssue[], check: (s: string) => string | null): void {
  const list = asList(value);
  if (list.length === 0) issues.push({ path, message: 'must not be an empty list' });
  list.forEach((item, i) => {
    const itemPath = Array.isArray(value) ? `${path}[${i}]` : path;
    if (typeof item !== 'string') {
      issues.push({ path: itemPath, message: `must be a string, got ${JSON.stringify(item)}` });
      return;
    }
    const problem = check(item);
    if (problem) issues.push({ path: itemPath, message: problem });
  });
}

function checkConditionValue(op: ParsedOperator, value: unknown, path: string, issues: PolicyIssue[]): void {
  const list = asList(value);
  if (list.length === 0) {
    issues.push({ path, message: 'condition value must not be an empty list' });
    return;
  }
  for (const item of list) {
    const kind = typeof item;
    if (kind !== 'string' && kind !== 'number' && kind !== 'boolean') {
      issues.push({ path, message: `condition value must be a scalar, got ${JSON.stringify(item)}` });
      continue;
    }
    const text = String(item);
    if (op.base.startsWith('Numeric') && !NUMERIC_PATTERN.test(text)) {
      issues.push({ path, message: `${op.base} needs a number, got ${JSON.stringify(item)}` });
    }
    if ((op.base === 'Bool' || op.base === 'Null') && text !== 'true' && text !== 'false') {
      issues.push({ path, message: `${op.base} needs true or false, got ${JSON.stringify(item)}` });
    }
    if (op.base.startsWith('Arn') && !text.startsWith('arn:')) {
      issues.push({ path, message: `${op.base} needs an ARN (pattern), got ${JSON.stringify(item)}` });
    }
  }
}

function checkCondition(condition: unknown, path: string, issues: PolicyIssue[]): void {
  if (!isPlainObject(condition) || Object.keys(condition).length === 0) {
    issues.push({ path, message: 'Condition must be a non-empty object' });
    return;
  }
  for (const [operator, block] of Object.entries(condition)) {
    const opPath = `${path}.${operator}`;
    const op = parseConditionOperator(operator);
    if (!op) {
      issues.push({ path: opPath, message: `unknown condition operator "${operator}"` });
      continue;
    }
    if (!isPlainObject(block) || Object.keys(block).length === 0) {
      issues.push({ path: opPath, message: 'operator block must map condition keys to values' });
      continue;
    }
    for (const [key, value] of Object.entries(block)) {
      const keyPath = `${opPath}["${key}"]`;
      if (!isKnownConditionKey(key)) {
        issues.push({ path: keyPath, message: `unknown condition key "${key}"` });
      }
      const multivalued = MULTIVALUED_CONDITION_KEYS.some((k) => k.toLowerCase() === key.toLowerCase());
      if (multivalued && !op.setQualifier && op.base !== 'Null') {
        issues.push({ path: keyPath, message: `"${key}" is multivalued: use ForAnyValue: or ForAllValues:` });
      }
      checkConditionValue(op, value, keyPath, issues);
    }
  }
}

function checkExactlyOne(
  statement: Record<string, unknown>,
  a: string,
  b: string,
  path: string,
  issues: PolicyIssue[],
): string | undefined {
  const hasA = a in statement;
  const hasB = b in statement;
  if (hasA === hasB) {
    issues.push({ path, message: `exactly one of ${a} or ${b} is required` });
    return undefined;
  }
  return hasA ? a : b;
}

function checkStatement(statement: unknown, path: string, options: ValidateOptions, issues: PolicyIssue[]): void {
  if (!isPlainObject(statement)) {
    issues.push({ path, message: 'statement must be an object' });
    return;
  }
  for (const key of Object.keys(statement)) {
    if (!STATEMENT_KEYS.has(key)) issues.push({ path: `${path}.${key}`, message: `unknown statement key "${key}"` });
  }
  if ('Sid' in statement && (typeof statement.Sid !== 'string' || !SID_PATTERN.test(statement.Sid))) {
    issues.push({ path: `${path}.Sid`, message: 'Sid must be alphanumeric' });
  }
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
    issues.push({ path: `${path}.Effect`, message: `Effect must be Allow or Deny, got ${JSON.stringify(statement.Effect)}` });
  }
  if (options.scp && ('Principal' in statement || 'NotPrincipal' in statement)) {
    issues.push({ path, message: 'SCPs do not support Principal/NotPrincipal' });
  }

  const actionKey = checkExactlyOne(statement, 'Action', 'NotAction', path, issues);
  if (actionKey) {
    checkStringList(statement[actionKey], `${path}.${actionKey}`, issues, (a) =>
      ACTION_PATTERN.test(a) ? null : `"${a}" is not a service:Action string`,
    );
  }
  const resourceKey = checkExactlyOne(statement, 'Resource', 'NotResource', path, issues);
  if (resourceKey) {
    checkStringList(statement[resourceKey], `${path}.${resourceKey}`, issues, (r) =>
      r === '*' || (r.startsWith('arn:') && r.split(':').length >= 6) ? null : `"${r}" is neither * nor an ARN`,
    );
  }
  if ('Condition' in statement) checkCondition(statement.Condition, `${path}.Condition`, issues);
}

/** Returns every grammar problem found; an empty list means the document is valid. */
export function validateIamPolicy(document: unknown, options: ValidateOptions = {}): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  if (!isPlainObject(document)) return [{ path: '$', message: 'policy must be a JSON object' }];

  for (const key of Object.keys(document)) {
    if (!TOP_LEVEL_KEYS.has(key)) issues.push({ path: key, message: `unknown top-level key "${key}"` });
  }
  if (typeof document.Version !== 'string' || !VERSIONS.has(document.Version)) {
    issues.push({ path: 'Version', message: `Version must be one of ${[...VERSIONS].join(', ')}` });
  }
  if (!('Statement' in document)) {
    issues.push({ path: 'Statement', message: 'Statement is required' });
  } else {
    const statements = asList(document.Statement);
    if (statements.length === 0) issues.push({ path: 'Statement', message: 'Statement must not be empty' });
    const sids = new Set<string>();
    statements.forEach((statement, i) => {
      const path = `Statement[${i}]`;
      checkStatement(statement, path, options, issues);
      if (isPlainObject(statement) && typeof statement.Sid === 'string' && statement.Sid !== '') {
        if (sids.has(statement.Sid)) issues.push({ path: `${path}.Sid`, message: `duplicate Sid "${statement.Sid}"` });
        sids.add(statement.Sid);
      }
    });
  }
  if (options.scp) {
    // Organizations counts the characters of the policy it stores; minified
    // JSON is the smallest form we could submit.
    const size = JSON.stringify(document).length;
    if (size > SCP_MAX_CHARS) {
      issues.push({ path: '$', message: `SCP is ${size} characters minified; the limit is ${SCP_MAX_CHARS}` });
    }
  }
  return issues;
}
