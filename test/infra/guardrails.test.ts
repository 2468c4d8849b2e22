import { describe, expect, it } from 'vitest';
import { validateIamPolicy } from './iam-policy-grammar.js';
import { readJson, readRepoFile } from './repo.js';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}

const SCP_PATH = 'infra/guardrails/scp-imds.json';
const DECLARATIVE_PATH = 'infra/guardrails/declarative-policy-ec2.json';
const BREAK_GLASS = 'arn:aws:iam::*:role/imds-guard-break-glass';
const INSTANCE_ARN = 'arn:aws:ec2:*:*:instance/*';

const scp = readJson(SCP_PATH) as Policy;
const statementBySid = (sid: string): Statement => {
  const found = scp.Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement with Sid ${sid}`);
  return found;
};

describe('SCP scp-imds.json', () => {
  it('is valid IAM policy grammar for an SCP', () => {
    expect(scp.Version).toBe('2012-10-17');
    expect(validateIamPolicy(scp, { scp: true })).toEqual([]);
  });

  it('only denies (an SCP allow-list would need FullAWSAccess semantics)', () => {
    expect(scp.Statement.map((s) => s.Effect)).toEqual(['Deny', 'Deny', 'Deny', 'Deny']);
  });

  it('denies RunInstances unless HttpTokens is required', () => {
    const s = statementBySid('DenyRunInstancesWithoutImdsV2');
    expect(s.Action).toBe('ec2:RunInstances');
    expect(s.Resource).toBe(INSTANCE_ARN);
    expect(s.Condition?.StringNotEquals).toEqual({ 'ec2:MetadataHttpTokens': 'required' });
  });

  it('denies RunInstances with a hop limit above 1', () => {
    const s = statementBySid('DenyRunInstancesWithHopLimitAboveOne');
    expect(s.Action).toBe('ec2:RunInstances');
    expect(s.Resource).toBe(INSTANCE_ARN);
    expect(s.Condition?.NumericGreaterThan).toEqual({ 'ec2:MetadataHttpPutResponseHopLimit': '1' });
  });

  it('denies ModifyInstanceMetadataOptions unless HttpTokens=required, including calls that omit it', () => {
    const s = statementBySid('DenyMetadataOptionsChangeWithoutRequiredTokens');
    expect(s.Action).toBe('ec2:ModifyInstanceMetadataOptions');
    expect(s.Resource).toBe(INSTANCE_ARN);
    expect(s.Condition?.StringNotEquals).toEqual({ 'ec2:Attribute/HttpTokens': 'required' });
    // An omitted HttpTokens means `optional` to this API. A Null guard (AWS's
    // example) would let such calls through, so it must not be here.
    expect(Object.keys(s.Condition ?? {}).sort()).toEqual(['ArnNotLike', 'StringNotEquals']);
  });

  it('denies every action signed with credentials delivered by IMDSv1', () => {
    const s = statementBySid('DenyUseOfCredentialsDeliveredByImdsV1');
    expect(s.Action).toBe('*');
    expect(s.Resource).toBe('*');
    expect(s.Condition).toEqual({ NumericLessThan: { 'ec2:RoleDelivery': '2.0' } });
  });

  it('exempts only the break-glass role, and only from the launch and modify statements', () => {
    for (const s of scp.Statement) {
      const exemption = s.Condition?.ArnNotLike;
      if (s.Sid === 'DenyUseOfCredentialsDeliveredByImdsV1') {
        expect(exemption).toBeUndefined();
      } else {
        expect(exemption).toEqual({ 'aws:PrincipalArn': BREAK_GLASS });
      }
    }
  });

  it('rejects the real SCP once an operator or key is misspelled (the validator is not a rubber stamp)', () => {
    const typoOperator = readRepoFile(SCP_PATH).replace('"NumericLessThan"', '"NumericLessThen"');
    expect(validateIamPolicy(JSON.parse(typoOperator), { scp: true })).toEqual([
      {
        path: 'Statement[3].Condition.NumericLessThen',
        message: 'unknown condition operator "NumericLessThen"',
      },
    ]);
    const typoKey = readRepoFile(SCP_PATH).replace('"ec2:RoleDelivery"', '"ec2:RoleDelivry"');
    expect(validateIamPolicy(JSON.parse(typoKey), { scp: true }).map((i) => i.message)).toEqual([
      'unknown condition key "ec2:RoleDelivry"',
    ]);
  });
});

// Organizations management-policy grammar: every leaf is an operator object.
const INHERITANCE_OPERATORS = new Set(['@@assign', '@@append', '@@remove', '@@operators_allowed_for_child_policies']);
const IMDS_DEFAULT_VALUES: Record<string, (v: unknown) => boolean> = {
  http_tokens: (v) => ['required', 'optional', 'no_preference'].includes(v as string),
  http_put_response_hop_limit: (v) => v === -1 || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 64),
  http_endpoint: (v) => ['enabled', 'disabled', 'no_preference'].includes(v as string),
  instance_metadata_tags: (v) => ['enabled', 'disabled', 'no_preference'].includes(v as string),
  http_tokens_enforced: (v) => ['enabled', 'disabled', 'no_preference'].includes(v as string),
};

describe('declarative policy declarative-policy-ec2.json', () => {
  const doc = readJson(DECLARATIVE_PATH) as {
    ec2_attributes: {
      instance_metadata_defaults: Record<string, Record<string, unknown>>;
      exception_message?: Record<string, unknown>;
    };
  };
  const defaults = doc.ec2_attributes.instance_metadata_defaults;

  it('has only the fixed EC2 top-level key', () => {
    expect(Object.keys(doc)).toEqual(['ec2_attributes']);
    expect(Object.keys(doc.ec2_attributes).sort()).toEqual(['exception_message', 'instance_metadata_defaults']);
  });

  it('uses only inheritance operators, with valid values for each IMDS attribute', () => {
    for (const [attribute, node] of Object.entries(defaults)) {
      const check = IMDS_DEFAULT_VALUES[attribute];
      expect(check, `unknown attribute ${attribute}`).toBeDefined();
      for (const key of Object.keys(node)) expect(INHERITANCE_OPERATORS.has(key), `${attribute}.${key}`).toBe(true);
      expect(check?.(node['@@assign']), `${attribute} = ${JSON.stringify(node['@@assign'])}`).toBe(true);
    }
    expect(typeof doc.ec2_attributes.exception_message?.['@@assign']).toBe('string');
  });

  it('sets the imds-guard policy: tokens required, hop limit 1, endpoint on, enforcement on, tags untouched', () => {
    expect(defaults.http_tokens).toEqual({ '@@assign': 'required' });
    expect(defaults.http_put_response_hop_limit).toEqual({ '@@assign': 1 });
    expect(defaults.http_endpoint).toEqual({ '@@assign': 'enabled' });
    expect(defaults.http_tokens_enforced).toEqual({ '@@assign': 'enabled' });
    expect(defaults.instance_metadata_tags).toEqual({ '@@assign': 'no_preference' });
  });
});

describe('guardrails README', () => {
  const readme = readRepoFile('infra/guardrails/README.md');

  it('documents the EKS default template and Auto Scaling caveat and the rollout order', () => {
    expect(readme).toContain('eks-<uuid>');
    expect(readme).toMatch(/Auto Scaling service-linked role/);
    const steps = ['imds-guard scan', 'imds-guard enforce', 'ModifyInstanceMetadataDefaults', 'test OU', 'HttpTokensEnforced'];
    const positions = steps.map((step) => readme.indexOf(step, readme.indexOf('## Rollout order')));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
