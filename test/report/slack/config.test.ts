import { describe, expect, it } from 'vitest';
import { loadSlackConfig, parseWebhookRef } from '../../../lib/report/slack/config.js';

describe('Slack config', () => {
  it('parses prefixed references and ARNs', () => {
    expect(parseWebhookRef('secretsmanager:imds-guard/slack/default')).toMatchObject({ kind: 'secret', name: 'imds-guard/slack/default' });
    expect(parseWebhookRef('ssm:/imds-guard/slack/payments')).toMatchObject({ kind: 'ssm', name: '/imds-guard/slack/payments' });
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:imds-guard/slack/default-AbCdEf';
    expect(parseWebhookRef(secretArn)).toEqual({ kind: 'secret', name: secretArn, ref: secretArn });
    const ssmArn = 'arn:aws:ssm:eu-west-1:111122223333:parameter/imds-guard/slack/payments';
    expect(parseWebhookRef(ssmArn)).toEqual({ kind: 'ssm', name: ssmArn, ref: ssmArn });
    expect(parseWebhookRef('/imds-guard/slack/x')).toBeUndefined();
  });

  it('defaults, and a per-owner map', () => {
    const c = loadSlackConfig({
      SLACK_WEBHOOK_PARAMETER: 'secretsmanager:imds-guard/slack/default',
      SLACK_OWNER_WEBHOOKS: '{"payments":"ssm:/imds-guard/slack/payments"}',
      SLACK_CACHE_SECONDS: '',
    });
    expect(c).toEqual({
      defaultWebhook: { kind: 'secret', name: 'imds-guard/slack/default', ref: 'secretsmanager:imds-guard/slack/default' },
      ownerWebhooks: { payments: { kind: 'ssm', name: '/imds-guard/slack/payments', ref: 'ssm:/imds-guard/slack/payments' } },
      cacheSeconds: 300,
      maxAttempts: 4,
    });
  });

  it('errors name the variable (and owner) and never echo a URL', () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
    const bad = (env: Record<string, string>) => {
      try {
        loadSlackConfig(env);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ SLACK_WEBHOOK_PARAMETER: url })).toMatch(/SLACK_WEBHOOK_PARAMETER: must reference a secret or SSM parameter/);
    expect(bad({ SLACK_WEBHOOK_PARAMETER: url })).not.toContain(url);
    expect(bad({ SLACK_OWNER_WEBHOOKS: `{"payments":"${url}"}` })).toMatch(/SLACK_OWNER_WEBHOOKS\.payments: must reference/);
    expect(bad({ SLACK_OWNER_WEBHOOKS: `{"payments": ${url}` })).toMatch(/SLACK_OWNER_WEBHOOKS: must be a JSON object/);
    expect(bad({ SLACK_OWNER_WEBHOOKS: `{"payments": ${url}` })).not.toContain('hooks.slack.com');
    expect(bad({ SLACK_OWNER_WEBHOOKS: '["ssm:/x"]' })).toMatch(/SLACK_OWNER_WEBHOOKS/);
    expect(bad({})).toMatch(/SLACK_WEBHOOK_PARAMETER: required unless SLACK_OWNER_WEBHOOKS/);
    expect(bad({ SLACK_WEBHOOK_PARAMETER: 'ssm:/x', SLACK_MAX_ATTEMPTS: '0' })).toMatch(/SLACK_MAX_ATTEMPTS/);
    expect(bad({ SLACK_WEBHOOK_PARAMETER: 'ssm:/x', SLACK_CACHE_SECONDS: 'soon' })).toMatch(/SLACK_CACHE_SECONDS/);
  });
});
