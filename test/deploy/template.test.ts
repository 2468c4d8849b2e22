import { beforeAll, describe, expect, it } from 'vitest';
import { asArray, iamStatements, packagedTemplate, resourcesOfType } from '../helpers/template.js';

let t: any;
beforeAll(() => {
  t = packagedTemplate();
}, 120_000);

const fnByHandler = (name: string) => resourcesOfType(t, 'AWS::Lambda::Function').find(([id]) => id.toLowerCase().startsWith(name.toLowerCase()))?.[1];

describe('npx osls package: CloudFormation template', () => {
  it('has the EventBridge rule for the three instance events, with retries and a DLQ', () => {
    const rules = resourcesOfType(t, 'AWS::Events::Rule').map(([, r]) => r.Properties);
    const rule = rules.find((r) => r.EventPattern.detail.eventName.includes('RunInstances'));
    expect(rule).toBeDefined();
    expect(rule.EventPattern).toMatchObject({ source: ['aws.ec2'], 'detail-type': ['AWS API Call via CloudTrail'], detail: { eventSource: ['ec2.amazonaws.com'] } });
    expect([...rule.EventPattern.detail.eventName].sort()).toEqual(['CreateFleet', 'ModifyInstanceMetadataOptions', 'RunInstances']);
    const target = rule.Targets[0];
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number) });
    expect(JSON.stringify(target.DeadLetterConfig.Arn)).toContain('EventsDeadLetterQueue');
  });

  it('the audit topic is encrypted with a customer-managed KMS key; queues are encrypted', () => {
    const [, topic] = resourcesOfType(t, 'AWS::SNS::Topic').find(([id]) => id === 'AuditTopic')!;
    expect(topic.Properties.KmsMasterKeyId).toEqual({ Ref: 'AuditKey' });
    expect(t.Resources.AuditKey.Type).toBe('AWS::KMS::Key');
    expect(t.Resources.AuditKey.Properties.EnableKeyRotation).toBe(true);
    for (const [, q] of resourcesOfType(t, 'AWS::SQS::Queue')) expect(q.Properties.KmsMasterKeyId ?? q.Properties.SqsManagedSseEnabled).toBeTruthy();
  });

  it('no IAM statement has a "*" or service-wide wildcard action', () => {
    const statements = iamStatements(t);
    expect(statements.length).toBeGreaterThan(0);
    for (const { resource, statement } of statements) {
      for (const a of asArray(statement.Action)) {
        expect(a, `${resource} ${statement.Sid ?? ''}`).not.toBe('*');
        expect(a, `${resource} ${statement.Sid ?? ''}`).not.toMatch(/:\*$/);
      }
    }
  });

  it('ModifyInstanceMetadataOptions is limited to instance ARNs', () => {
    const s = iamStatements(t).filter(({ statement }) => asArray(statement.Action).includes('ec2:ModifyInstanceMetadataOptions'));
    expect(s.length).toBeGreaterThan(0);
    for (const { statement } of s) {
      expect(JSON.stringify(statement.Resource)).toMatch(/:instance\/\*/);
      expect(statement.Resource).not.toBe('*');
    }
  });

  it('the function runs as its own role, on nodejs22.x, with an on-failure destination', () => {
    const fn = fnByHandler('EnforceInstances');
    expect(fn.Properties.Runtime).toBe('nodejs22.x');
    expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': ['EnforceInstancesRole', 'Arn'] });
    expect(fn.Properties.ReservedConcurrentExecutions).toBeGreaterThan(0);
    const [, conf] = resourcesOfType(t, 'AWS::Lambda::EventInvokeConfig')[0]!;
    expect(JSON.stringify(conf.Properties.DestinationConfig.OnFailure)).toContain('FailedInvocationsQueue');
  });
});
