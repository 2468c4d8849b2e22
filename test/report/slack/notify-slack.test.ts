import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../../lib/domain/audit.js';
import { renderOwnerMessage } from '../../../lib/report/message.js';
import { startTestSandbox, createIdempotencyTable } from '../../helpers/sandbox.js';
import { lambdaContext, loadFunction } from '../../helpers/lambda.js';
import { captureOutput, record, webhookServer, type Reply } from './fixtures.js';

type Mod = typeof import('../../../functions/notify-slack.js');
const secrets = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);

const DEFAULT_TOKEN = 'dflt0SECRET0token';
const PAYMENTS_TOKEN = 'pymt0SECRET0token';
const env = {
  SLACK_WEBHOOK_PARAMETER: 'secretsmanager:imds-guard/slack/default',
  SLACK_OWNER_WEBHOOKS: '{"payments":"ssm:/imds-guard/slack/payments"}',
  SLACK_MAX_ATTEMPTS: '3',
  // The suite runs with logging and metrics off; these tests read both.
  POWERTOOLS_LOG_LEVEL: 'DEBUG',
  POWERTOOLS_METRICS_DISABLED: 'false',
};

/** An SNS event as Lambda receives it: Sns.Message is the `lambda` body of the json-structured publish. */
function snsEvent(...groups: AuditRecord[][]): SNSEvent {
  return {
    Records: groups.map((records, i) => {
      const m = renderOwnerMessage(records);
      return {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:eu-west-1:111122223333:imds-guard-audit:sub',
        Sns: {
          Type: 'Notification',
          MessageId: `msg-${i}`,
          TopicArn: 'arn:aws:sns:eu-west-1:111122223333:imds-guard-audit',
          Subject: m.subject,
          Message: JSON.parse(m.message).lambda,
          Timestamp: '2025-03-04T05:06:08.000Z',
          SignatureVersion: '1',
          Signature: 'x',
          SigningCertUrl: 'https://sns.eu-west-1.amazonaws.com/cert.pem',
          UnsubscribeUrl: 'https://sns.eu-west-1.amazonaws.com/unsub',
          MessageAttributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, { Type: 'String', Value: v }])),
        },
      };
    }),
  };
}

let servers: Awaited<ReturnType<typeof webhookServer>>[] = [];
async function serve(reply?: (hit: any, n: number) => Reply) {
  const s = await webhookServer(reply);
  servers.push(s);
  return s;
}

beforeEach(() => {
  secrets.reset();
  ssm.reset();
  clearCaches();
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** The handler without middy, with an injected sleep that records the delays asked for. */
async function loadHandler(extraEnv: Record<string, string> = {}) {
  vi.resetModules();
  for (const [k, v] of Object.entries({ ...env, ...extraEnv })) vi.stubEnv(k, v);
  const { makeNotifySlackHandler } = await import('../../../lib/lambda/notify-slack.js');
  const { loadSlackConfig } = await import('../../../lib/report/slack/config.js');
  const delays: number[] = [];
  const run = makeNotifySlackHandler(loadSlackConfig(), { sleep: async (ms) => void delays.push(ms) });
  return { handler: run, delays };
}

async function setup(reply?: (hit: any, n: number) => Reply, extraEnv: Record<string, string> = {}) {
  const dflt = await serve(reply);
  const payments = await serve(reply);
  const urls = { dflt: dflt.url(`/services/T1/B1/${DEFAULT_TOKEN}`), payments: payments.url(`/services/T1/B2/${PAYMENTS_TOKEN}`) };
  secrets
    .on(GetSecretValueCommand, { SecretId: 'imds-guard/slack/default' })
    .resolves({ SecretString: JSON.stringify({ webhookUrl: urls.dflt }) });
  ssm
    .on(GetParameterCommand, { Name: '/imds-guard/slack/payments', WithDecryption: true })
    .resolves({ Parameter: { Name: '/imds-guard/slack/payments', Type: 'SecureString', Value: urls.payments } });
  const { handler } = await loadFunction<Mod>('../../functions/notify-slack.js', { ...env, ...extraEnv });
  return { handler, dflt, payments, urls };
}

describe('notify-slack handler', () => {
  it('a redelivered SNS message (same MessageId) posts once', async () => {
    // DynamoDB for the idempotency records comes from the local sandbox; secrets stay mocked.
    const sandbox = await startTestSandbox();
    try {
      await createIdempotencyTable(sandbox.url, 'eu-west-1', 'idem');
      const { handler, payments } = await setup(undefined, { IDEMPOTENCY_TABLE: 'idem', AWS_ENDPOINT_URL_DYNAMODB: sandbox.url });
      const event = snsEvent([record(1)]);
      const first = await handler(event, lambdaContext());
      const again = await handler(structuredClone(event), lambdaContext());
      expect(payments.hits).toHaveLength(1);
      expect(first).toMatchObject({ deliveries: [{ status: 'posted' }] });
      expect(again).toMatchObject({ duplicate: true, deliveries: [{ status: 'posted' }] });
      // A different message is not a duplicate.
      const other = snsEvent([record(2)]);
      other.Records[0]!.Sns.MessageId = 'msg-other';
      await handler(other, lambdaContext());
      expect(payments.hits).toHaveLength(2);
    } finally {
      await sandbox.close();
    }
  });

  it('routes each owner to their own webhook; unmapped owners go to the default', async () => {
    const { handler, dflt, payments } = await setup();
    const res = await handler(snsEvent([record(1), record(2, 'failed')], [record(3, 'remediated', { owner: 'search' })]), lambdaContext());
    expect(payments.hits).toHaveLength(1);
    expect(dflt.hits).toHaveLength(1);
    const body = payments.hits[0]!.body;
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text', 'unfurl_links', 'unfurl_media']);
    expect(body.text).toMatch(/^:x: imds-guard: 1 failed, 1 remediated · payments/);
    expect(body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', emoji: true, text: ':x: imds-guard: 1 failed, 1 remediated · payments' },
    });
    expect(body.blocks.map((b: any) => b.type)).toEqual(['header', 'section', 'divider', 'section', 'section', 'divider', 'context']);
    expect(body.blocks[3].text.text).toContain('instanceId=i-00000000000000002|i-00000000000000002>');
    expect(dflt.hits[0]!.body.blocks[0].text.text).toContain('· search');
    expect(res).toMatchObject({
      messages: 2,
      invalid: 0,
      deliveries: [
        { owner: 'payments', status: 'posted', parameter: 'ssm:/imds-guard/slack/payments', records: 2, attempts: 1 },
        { owner: 'search', status: 'posted', parameter: 'secretsmanager:imds-guard/slack/default', records: 1, attempts: 1 },
      ],
    });
  });

  it('caches the webhook URL across invocations', async () => {
    const { handler } = await setup();
    await handler(snsEvent([record(1)]), lambdaContext());
    await handler(snsEvent([record(2)]), lambdaContext());
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('accepts a bare AuditRecord array and groups it by owner', async () => {
    const { handler, dflt, payments } = await setup();
    const e = snsEvent([record(1)]);
    e.Records[0]!.Sns.Message = JSON.stringify([record(1), record(2, 'remediated', { owner: 'search' })]);
    e.Records[0]!.Sns.MessageAttributes = {};
    const res = await handler(e, lambdaContext());
    expect(res.messages).toBe(2);
    expect(payments.hits).toHaveLength(1);
    expect(dflt.hits).toHaveLength(1);
  });

  it('bad messages are logged, counted and skipped without throwing', async () => {
    const { handler, dflt, payments } = await setup();
    const out = captureOutput();
    const e = snsEvent([record(1)], [record(2)]);
    e.Records[0]!.Sns.Message = 'not json';
    e.Records[1]!.Sns.Message = JSON.stringify({ schema: 'imds-guard.message/v1', owner: 'x', records: [{ hello: 1 }] });
    const res = await handler(e, lambdaContext());
    expect(res).toMatchObject({ messages: 0, invalid: 2, deliveries: [] });
    expect(dflt.hits.length + payments.hits.length).toBe(0);
    const logs = out.join('');
    expect(logs).toContain('"reason":"invalid-message"');
    expect(logs).toContain('"slackInvalidMessages"');
  });

  it('429 with Retry-After is retried by the handler, hitting the server again after the delay asked for', async () => {
    const { payments } = await setup((_, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '7' } } : { status: 200, body: 'ok' }));
    const { handler, delays } = await loadHandler();
    const res = await handler(snsEvent([record(1)]), lambdaContext());
    expect(payments.hits).toHaveLength(2);
    expect(payments.hits[1]!.body).toEqual(payments.hits[0]!.body);
    expect(delays).toEqual([7000]);
    expect(res.deliveries[0]).toMatchObject({ status: 'posted', attempts: 2 });
  });

  it('a failed post fails the invocation after trying every owner; the URL never reaches the logs', async () => {
    const { dflt, payments, urls } = await setup((hit) =>
      hit.path.includes(PAYMENTS_TOKEN) ? { status: 500, body: 'internal_error' } : { status: 200, body: 'ok' },
    );
    const { handler, delays } = await loadHandler();
    const out = captureOutput();
    const err = await handler(snsEvent([record(1)], [record(2, 'remediated', { owner: 'search' })]), lambdaContext()).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'SlackDeliveryError', message: 'Slack delivery failed for owner(s) payments' });
    expect(payments.hits).toHaveLength(3); // SLACK_MAX_ATTEMPTS
    expect(delays).toHaveLength(2);
    expect(dflt.hits).toHaveLength(1); // the other owner was still posted
    const logs = out.join('');
    expect(logs).toContain('"owner":"payments"');
    expect(logs).toContain('"parameter":"ssm:/imds-guard/slack/payments"');
    expect(logs).toContain('"httpStatus":500');
    for (const secret of [urls.payments, urls.dflt, PAYMENTS_TOKEN, DEFAULT_TOKEN]) {
      expect(logs).not.toContain(secret);
      expect(String((err as Error).stack)).not.toContain(secret);
    }
  });

  it('a parameter fetch failure is a failed delivery; the error names the parameter, never the URL', async () => {
    const { handler, urls } = await setup();
    // An SDK error that (unusually) echoes the value must still be redacted.
    const leaky = 'https://hooks.slack.com/services/T9/B9/leakyLEAKYleaky';
    ssm.on(GetParameterCommand).rejects(
      Object.assign(new Error(`throttled while reading ${leaky} and ${urls.payments}`), {
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: {},
      }),
    );
    const out = captureOutput();
    const err = await handler(snsEvent([record(1)]), lambdaContext()).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SlackDeliveryError' });
    const logs = out.join('');
    expect(logs).toContain('could not read webhook parameter ssm:/imds-guard/slack/payments: ThrottlingException');
    expect(logs).toContain('[redacted webhook URL]');
    expect(logs).not.toContain(leaky);
    expect(logs).not.toContain('leakyLEAKYleaky');
  });

  it('a secret that does not hold a URL fails without quoting the secret', async () => {
    const { handler } = await setup();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"url": https://hooks.slack.com/services/T1/B1/brokenJSONsecret' });
    const out = captureOutput();
    await expect(handler(snsEvent([record(1, 'remediated', { owner: 'search' })]), lambdaContext())).rejects.toThrow(/search/);
    const logs = out.join('');
    expect(logs).toContain('webhook parameter secretsmanager:imds-guard/slack/default does not hold an https URL');
    expect(logs).not.toContain('brokenJSONsecret');
  });

  it('an owner without a webhook and no default is skipped, not retried', async () => {
    const { handler, payments } = await setup(undefined, { SLACK_WEBHOOK_PARAMETER: '' });
    const res = await handler(snsEvent([record(1, 'remediated', { owner: 'search' })], [record(2)]), lambdaContext());
    expect(res.deliveries.map((d) => [d.owner, d.status])).toEqual([
      ['search', 'unrouted'],
      ['payments', 'posted'],
    ]);
    expect(payments.hits).toHaveLength(1);
  });

  it('an invalid configuration fails at cold start, naming the variable', async () => {
    await expect(
      loadFunction<Mod>('../../functions/notify-slack.js', { SLACK_OWNER_WEBHOOKS: '{"payments":"https://hooks.slack.com/services/x"}' }),
    ).rejects.toThrow(/SLACK_OWNER_WEBHOOKS\.payments/);
  });
});

describe('notify-slack: only the audit topic (issue 17, attack 3)', () => {
  it('a record from another topic is dropped with a log line and posts nothing; the audit topic still posts', async () => {
    const { handler, dflt, payments } = await setup(undefined, { TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:imds-guard-audit' });
    const out = captureOutput();
    const forged = snsEvent([record(1, 'remediated', { owner: 'payments' })]);
    forged.Records[0]!.Sns.TopicArn = 'arn:aws:sns:eu-west-1:111122223333:attacker-topic';
    const res = await handler(forged, lambdaContext());
    expect(res).toMatchObject({ messages: 0, deliveries: [] });
    expect(dflt.hits.length + payments.hits.length).toBe(0);
    expect(out.join('')).toContain('foreign-topic');
    const genuine = snsEvent([record(2, 'remediated', { owner: 'payments' })]);
    genuine.Records[0]!.Sns.MessageId = 'genuine-1';
    expect(await handler(genuine, lambdaContext())).toMatchObject({ deliveries: [{ status: 'posted' }] });
  });
});
