import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import { context } from '../../scripts/lib/local-lambda.js';

export const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:imds-guard-audit';

/** The same Lambda context `npm start` uses, with a fixed request ID for assertions. */
export function lambdaContext(name = 'imds-guard-test'): Context {
  return { ...context(name), awsRequestId: 'req-test' };
}

/** Import a function module fresh, with its cold-start env. */
export async function loadFunction<T>(path: string, env: Record<string, string>): Promise<T> {
  vi.resetModules();
  // Vitest itself sets MODE=test; a handler's MODE must come from the test.
  for (const [k, v] of Object.entries({ MODE: 'enforce', ...env })) vi.stubEnv(k, v);
  const { resetClients } = await import('../../lib/shell/clients.js');
  resetClients();
  return (await import(path)) as T;
}

/** A message as the sandbox captured it (sandbox/state.ts CapturedMessage): what snsEventOf needs of it. */
interface Captured {
  messageId: string;
  topicArn: string;
  subject?: string;
  bodies: Record<string, string>;
  attributes: Record<string, string>;
  attributeTypes: Record<string, string>;
  time: string;
}

/**
 * Published messages as SNS delivers them to a Lambda subscriber: one record each, Sns.Message the `lambda`
 * body of a json-structured publish (else `default`), the message attributes typed.
 */
export function snsEventOf(messages: Captured[]): import('aws-lambda').SNSEvent {
  return {
    Records: messages.map((m) => ({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: `${m.topicArn}:sub`,
      Sns: {
        Type: 'Notification',
        MessageId: m.messageId,
        TopicArn: m.topicArn,
        ...(m.subject ? { Subject: m.subject } : {}),
        Message: m.bodies.lambda ?? m.bodies.default!,
        Timestamp: m.time,
        SignatureVersion: '1',
        Signature: 'x',
        SigningCertUrl: 'https://sns.amazonaws.com/cert.pem',
        UnsubscribeUrl: 'https://sns.amazonaws.com/unsub',
        MessageAttributes: Object.fromEntries(
          Object.entries(m.attributes).map(([k, v]) => [k, { Type: m.attributeTypes[k] ?? 'String', Value: v }]),
        ),
      },
    })),
  };
}
