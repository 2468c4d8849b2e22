import {
  CreateOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  PublishBatchCommand,
  PublishCommand,
  SubscribeCommand,
  ListPlatformApplicationsCommand,
} from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
beforeAll(async () => {
  h = await harness({ callerArn: 'arn:aws:sts::111122223333:assumed-role/imds-guard-remediator/session-1' });
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const topic = async (Name = 'imds-guard') => (await h.sns.send(new CreateTopicCommand({ Name }))).TopicArn!;

describe('SNS', () => {
  it('CreateTopic is idempotent and regional', async () => {
    const a = await topic();
    expect(a).toBe('arn:aws:sns:eu-west-1:111122223333:imds-guard');
    expect(await topic()).toBe(a);
    expect((await errorOf(topic('bad name!'))).name).toBe('InvalidParameterException');
  });

  it('captures MessageStructure=json publishes with per-protocol bodies and attributes', async () => {
    const arn = await topic();
    const body = { default: 'plain', email: 'Dear owner', sqs: '{"k":1}', lambda: '{"v":"1.0"}' };
    const out = await h.sns.send(
      new PublishCommand({
        TopicArn: arn,
        Subject: 'IMDSv2 enforced on 3 nodes',
        Message: JSON.stringify(body),
        MessageStructure: 'json',
        MessageAttributes: {
          owner: { DataType: 'String', StringValue: 'team-payments' },
          count: { DataType: 'Number', StringValue: '3' },
          clusters: { DataType: 'String.Array', StringValue: '["payments","analytics"]' },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    const [m] = h.sb.messages();
    expect(m).toMatchObject({
      messageId: out.MessageId,
      topicArn: arn,
      subject: 'IMDSv2 enforced on 3 nodes',
      messageStructure: 'json',
      bodies: body,
      attributes: { owner: 'team-payments', count: '3', clusters: '["payments","analytics"]', blob: 'AQID' },
      attributeTypes: { owner: 'String', count: 'Number', clusters: 'String.Array', blob: 'Binary' },
    });
    expect(new Date(m!.time).getTime()).toBeGreaterThan(0);
  });

  it('rejects JSON structure without a default key and other bad input', async () => {
    const arn = await topic();
    const noDefault = await errorOf(h.sns.send(new PublishCommand({ TopicArn: arn, Message: '{"email":"x"}', MessageStructure: 'json' })));
    expect(noDefault.name).toBe('InvalidParameterException');
    expect(noDefault.message).toContain('No default entry');
    const notJson = await errorOf(h.sns.send(new PublishCommand({ TopicArn: arn, Message: 'nope', MessageStructure: 'json' })));
    expect(notJson.name).toBe('InvalidParameterException');
    const attr = await errorOf(
      h.sns.send(new PublishCommand({ TopicArn: arn, Message: 'x', MessageAttributes: { a: { DataType: 'String' } } })),
    );
    expect(attr.name).toBe('InvalidParameterValueException');
    const nf = await errorOf(h.sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:111122223333:missing', Message: 'x' })));
    expect(nf.name).toBe('NotFoundException');
    expect(h.sb.messages()).toHaveLength(0);
  });

  it('evaluates subscription filter policies on message attributes', async () => {
    const arn = await topic();
    const sub = (Endpoint: string, policy?: object) =>
      h.sns.send(
        new SubscribeCommand({
          TopicArn: arn,
          Protocol: 'email',
          Endpoint,
          Attributes: policy ? { FilterPolicy: JSON.stringify(policy) } : undefined,
        }),
      );
    const all = (await sub('all@example.com')).SubscriptionArn!;
    const payments = (await sub('payments@example.com', { owner: ['team-payments'], severity: [{ 'anything-but': 'info' }] }))
      .SubscriptionArn!;
    await sub('analytics@example.com', { owner: [{ prefix: 'team-analytics' }] });
    await h.sns.send(
      new PublishCommand({
        TopicArn: arn,
        Message: 'x',
        MessageAttributes: {
          owner: { DataType: 'String', StringValue: 'team-payments' },
          severity: { DataType: 'String', StringValue: 'high' },
        },
      }),
    );
    expect(h.sb.messages()[0]!.deliveredTo).toEqual([all, payments]);
    const subs = await h.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn }));
    expect(subs.Subscriptions!.map((s) => s.Endpoint)).toEqual(['all@example.com', 'payments@example.com', 'analytics@example.com']);
    expect((await errorOf(sub('x@example.com', 'not json' as unknown as object))).name).toBe('InvalidParameterException');
  });

  it('PublishBatch reports per-entry failures', async () => {
    const arn = await topic();
    const out = await h.sns.send(
      new PublishBatchCommand({
        TopicArn: arn,
        PublishBatchRequestEntries: [
          { Id: 'a', Message: 'one' },
          { Id: 'b', Message: '{}', MessageStructure: 'json' },
        ],
      }),
    );
    expect(out.Successful!.map((s) => s.Id)).toEqual(['a']);
    expect(out.Failed).toEqual([
      { Id: 'b', Code: 'InvalidParameter', SenderFault: true, Message: expect.stringContaining('No default entry') },
    ]);
    expect(h.sb.messages().map((m) => m.message)).toEqual(['one']);
  });

  it('names unimplemented actions', async () => {
    expect((await errorOf(h.sns.send(new ListPlatformApplicationsCommand({})))).name).toBe('InvalidAction');
  });
});

describe('STS and IAM', () => {
  it('GetCallerIdentity returns the configured ARN', async () => {
    const id = await h.sts.send(new GetCallerIdentityCommand({}));
    expect(id).toMatchObject({ Account: '111122223333', Arn: 'arn:aws:sts::111122223333:assumed-role/imds-guard-remediator/session-1' });
  });

  it('registers and lists OIDC providers (IRSA)', async () => {
    const url = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789';
    const { OpenIDConnectProviderArn: arn } = await h.iam.send(
      new CreateOpenIDConnectProviderCommand({ Url: url, ClientIDList: ['sts.amazonaws.com'] }),
    );
    expect(arn).toBe('arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789');
    expect((await h.iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList).toEqual([{ Arn: arn }]);
    const got = await h.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    expect(got).toMatchObject({ Url: url.slice('https://'.length), ClientIDList: ['sts.amazonaws.com'] });
    expect((await errorOf(h.iam.send(new CreateOpenIDConnectProviderCommand({ Url: url })))).name).toBe('EntityAlreadyExistsException');
    expect((await errorOf(h.iam.send(new ListRolesCommand({})))).name).toBe('InvalidAction');
  });
});
