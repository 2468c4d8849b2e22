import { describe, expect, it } from 'vitest';
import { isKnownConditionKey, parseConditionOperator, SCP_MAX_CHARS, validateIamPolicy } from './iam-policy-grammar.js';

const statement = (overrides: Record<string, unknown> = {}) => ({
  Sid: 'Test',
  Effect: 'Deny',
  Action: 'ec2:RunInstances',
  Resource: 'arn:aws:ec2:*:*:instance/*',
  Condition: { StringNotEquals: { 'ec2:MetadataHttpTokens': 'required' } },
  ...overrides,
});
const policy = (...statements: unknown[]) => ({ Version: '2012-10-17', Statement: statements });
const messages = (doc: unknown, scp = false) => validateIamPolicy(doc, { scp }).map((i) => `${i.path}: ${i.message}`);

describe('IAM policy grammar validator', () => {
  it('accepts a well-formed policy', () => {
    expect(messages(policy(statement()), true)).toEqual([]);
  });

  it.each([
    'StringEquals',
    'StringNotEqualsIfExists',
    'ForAnyValue:StringLike',
    'ForAllValues:StringEqualsIgnoreCase',
    'NumericGreaterThanEquals',
    'ArnNotLike',
    'Bool',
    'Null',
  ])('knows the operator %s', (op) => {
    expect(parseConditionOperator(op)).not.toBeNull();
  });

  it.each([
    'StringNotEqual', // missing s
    'NumericGreaterThen', // typo
    'NumericGreaterThanIfExist', // truncated suffix
    'stringequals', // operators are case-sensitive
    'NullIfExists', // Null takes no IfExists
    'ForAnyValue:Null',
    'ForSomeValues:StringLike',
  ])('rejects the operator %s', (op) => {
    expect(parseConditionOperator(op)).toBeNull();
  });

  it('matches condition keys case-insensitively and accepts tag-key families', () => {
    expect(isKnownConditionKey('aws:PrincipalARN')).toBe(true);
    expect(isKnownConditionKey('aws:RequestTag/Owner')).toBe(true);
    expect(isKnownConditionKey('aws:RequestTag/')).toBe(false);
    expect(isKnownConditionKey('ec2:MetadataHttpToken')).toBe(false);
  });

  it('rejects a misspelled condition operator', () => {
    const doc = policy(statement({ Condition: { StringNotEqual: { 'ec2:MetadataHttpTokens': 'required' } } }));
    expect(messages(doc)).toEqual(['Statement[0].Condition.StringNotEqual: unknown condition operator "StringNotEqual"']);
  });

  it('rejects a misspelled condition key', () => {
    const doc = policy(statement({ Condition: { StringNotEquals: { 'ec2:MetadataHttpToken': 'required' } } }));
    expect(messages(doc)).toEqual([
      'Statement[0].Condition.StringNotEquals["ec2:MetadataHttpToken"]: unknown condition key "ec2:MetadataHttpToken"',
    ]);
  });

  it('rejects bad Effect, Action, Resource and Sid values', () => {
    const doc = policy(statement({ Sid: 'has-dash', Effect: 'deny', Action: 'ec2RunInstances', Resource: 'instance/*' }));
    const found = messages(doc).join('\n');
    expect(found).toContain('Sid must be alphanumeric');
    expect(found).toContain('Effect must be Allow or Deny');
    expect(found).toContain('"ec2RunInstances" is not a service:Action string');
    expect(found).toContain('"instance/*" is neither * nor an ARN');
  });

  it('rejects values of the wrong type for the operator', () => {
    const doc = policy(
      statement({
        Condition: {
          NumericGreaterThan: { 'ec2:MetadataHttpPutResponseHopLimit': 'one' },
          ArnNotLike: { 'aws:PrincipalArn': 'role/break-glass' },
          Bool: { 'aws:SecureTransport': 'yes' },
        },
      }),
    );
    expect(messages(doc)).toHaveLength(3);
  });

  it('rejects unknown top-level and statement keys, and Action with NotAction', () => {
    const doc = {
      Version: '2012-10-17',
      Statements: [],
      Statement: [statement({ NotAction: 's3:*', Conditions: {} })],
    };
    const found = messages(doc).join('\n');
    expect(found).toContain('unknown top-level key "Statements"');
    expect(found).toContain('unknown statement key "Conditions"');
    expect(found).toContain('exactly one of Action or NotAction');
  });

  it('rejects a wrong Version and an empty Statement', () => {
    expect(messages({ Version: '2012-10-18', Statement: [] }).join('\n')).toMatch(
      /Version must be one of[\s\S]*Statement must not be empty/,
    );
  });

  it('applies SCP-only rules: no Principal, size limit', () => {
    const withPrincipal = policy(statement({ Principal: '*' }));
    expect(messages(withPrincipal, false)).toEqual([]);
    expect(messages(withPrincipal, true).join('\n')).toContain('SCPs do not support Principal');

    const big = policy(...Array.from({ length: 40 }, (_, i) => statement({ Sid: `S${i}`, Action: `ec2:RunInstances` })));
    expect(JSON.stringify(big).length).toBeGreaterThan(SCP_MAX_CHARS);
    expect(messages(big, true).join('\n')).toContain(`the limit is ${SCP_MAX_CHARS}`);
  });

  it('rejects duplicate Sids', () => {
    expect(messages(policy(statement(), statement())).join('\n')).toContain('duplicate Sid "Test"');
  });
});
