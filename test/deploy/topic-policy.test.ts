// Issue 17 item 3: the audit topic is closed. Asserted on the packaged template, against the roles and
// subscriptions the template itself declares (so a new publisher or subscriber without a policy entry fails).
import { beforeAll, describe, expect, it } from 'vitest';
import { asArray, effectiveTemplate, iamStatements, packagedTemplate, resourcesOfType } from '../helpers/template.js';

let plain: any;
let withSubscribers: any;
beforeAll(() => {
  plain = effectiveTemplate(packagedTemplate());
  withSubscribers = effectiveTemplate(
    packagedTemplate({ paymentsEmail: 'payments@example.com', onCallProtocol: 'https', onCallEndpoint: 'https://pager.example.com/hook' }),
  );
}, 240_000);

const roleArn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${name}` });
const ROOT = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' };
const isAuditTopic = (r: unknown) => JSON.stringify(r) === JSON.stringify({ Ref: 'AuditTopic' });
const topicPolicy = (t: any) => {
  const found = resourcesOfType(t, 'AWS::SNS::TopicPolicy').filter(([, r]) => r.Properties.Topics.some(isAuditTopic));
  expect(found).toHaveLength(1);
  return found[0]![1].Properties.PolicyDocument;
};
const statement = (doc: any, sid: string) => {
  const s = asArray<any>(doc.Statement).find((x) => x.Sid === sid);
  if (!s) throw new Error(`no statement ${sid}`);
  return s;
};
/** Role names of the IAM roles whose policies allow sns:Publish on the audit topic. */
const publisherRoleNames = (t: any): string[] => {
  const ids = new Set(
    iamStatements(t)
      .filter(
        ({ statement: s }) => s.Effect === 'Allow' && asArray(s.Action).includes('sns:Publish') && asArray(s.Resource).some(isAuditTopic),
      )
      .map(({ resource }) => resource),
  );
  return [...ids].map((id) => t.Resources[id].Properties.RoleName as string).sort();
};
/** Every imds-guard function role: the roles Lambda assumes (the sweep's scheduler role is not one). */
const functionRoleNames = (t: any): string[] =>
  resourcesOfType(t, 'AWS::IAM::Role')
    .filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'))
    .map(([, r]) => r.Properties.RoleName as string)
    .filter((n) => typeof n === 'string')
    .sort();
const sortedJson = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

describe('AuditTopic policy', () => {
  it('allows Publish only to the function roles, by ARN condition on the account principal', () => {
    const s = statement(topicPolicy(plain), 'PublishByImdsGuardRoles');
    expect(s.Effect).toBe('Allow');
    expect(s.Principal).toEqual({ AWS: ROOT });
    expect(s.Action).toBe('sns:Publish');
    expect(isAuditTopic(s.Resource)).toBe(true);
    expect(sortedJson(s.Condition.ArnEquals['aws:PrincipalArn'])).toEqual(sortedJson(functionRoleNames(plain).map(roleArn)));
  });

  it('lists every role that IAM lets publish to the topic (no publisher is locked out)', () => {
    const allowed = sortedJson(statement(topicPolicy(plain), 'PublishByImdsGuardRoles').Condition.ArnEquals['aws:PrincipalArn']);
    const publishers = publisherRoleNames(plain);
    expect(publishers.length).toBeGreaterThanOrEqual(3);
    for (const name of publishers) expect(allowed, name).toContain(JSON.stringify(roleArn(name)));
  });

  it('denies Publish to every other principal with an explicit Deny (ArnNotEquals, exact ARNs)', () => {
    const doc = topicPolicy(plain);
    const deny = statement(doc, 'DenyPublishByAnyoneElse');
    expect([deny.Effect, deny.Principal, deny.Action]).toEqual(['Deny', '*', 'sns:Publish']);
    expect(isAuditTopic(deny.Resource)).toBe(true);
    expect(Object.keys(deny.Condition)).toEqual(['ArnNotEquals']);
    expect(sortedJson(deny.Condition.ArnNotEquals['aws:PrincipalArn'])).toEqual(
      sortedJson(statement(doc, 'PublishByImdsGuardRoles').Condition.ArnEquals['aws:PrincipalArn']),
    );
  });

  it.each([
    ['without optional subscribers', () => plain],
    ['with the email and on-call subscribers', () => withSubscribers],
  ])('lets exactly the configured subscriptions subscribe (%s), root as break-glass', (_, template) => {
    const t = template();
    const deny = statement(topicPolicy(t), 'DenySubscribeExceptConfiguredEndpoints');
    expect([deny.Effect, deny.Principal, deny.Action]).toEqual(['Deny', '*', 'sns:Subscribe']);
    expect(deny.Condition.ArnNotEquals).toEqual({ 'aws:PrincipalArn': ROOT });
    const subscriptions = resourcesOfType(t, 'AWS::SNS::Subscription').filter(([, r]) => isAuditTopic(r.Properties.TopicArn));
    expect(subscriptions.length).toBeGreaterThanOrEqual(1);
    expect(sortedJson(deny.Condition.StringNotEquals['sns:Endpoint'])).toEqual(
      sortedJson(subscriptions.map(([, r]) => r.Properties.Endpoint)),
    );
  });
});

describe('AuditKey policy', () => {
  it('denies use of the key through SNS for the audit topic to every principal but the function roles', () => {
    const key = plain.Resources.AuditKey.Properties.KeyPolicy;
    const s = statement(key, 'AuditTopicKeyOnlyForImdsGuardRoles');
    expect([s.Effect, s.Principal]).toEqual(['Deny', '*']);
    expect(asArray(s.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(s.Condition.StringEquals['kms:ViaService']).toEqual({ 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' });
    const topicName = plain.Resources.AuditTopic.Properties.TopicName;
    expect(s.Condition.StringEquals['kms:EncryptionContext:aws:sns:topicArn']).toEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:sns:\${AWS::Region}:\${AWS::AccountId}:${topicName}`,
    });
    // Service principals (CloudWatch alarms, EventBridge) have no principal ARN: left to the Allow statement.
    expect(s.Condition.Null).toEqual({ 'aws:PrincipalArn': 'false' });
    expect(sortedJson(s.Condition.ArnNotEquals['aws:PrincipalArn'])).toEqual(sortedJson(functionRoleNames(plain).map(roleArn)));
  });

  it('keeps the account-admin and service statements', () => {
    const sids = asArray<any>(plain.Resources.AuditKey.Properties.KeyPolicy.Statement).map((s) => s.Sid);
    expect(sids).toEqual(expect.arrayContaining(['AccountAdmin', 'ServicesThatDeliverToTopicAndQueues']));
  });
});
