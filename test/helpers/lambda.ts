import type { Context } from 'aws-lambda';
import { vi } from 'vitest';

export const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:imds-guard-audit';

export function lambdaContext(name = 'imds-guard-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:111122223333:function:${name}`,
    memoryLimitInMB: '256',
    awsRequestId: 'req-test',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Import a function module fresh, with its cold-start env. */
export async function loadFunction<T>(path: string, env: Record<string, string>): Promise<T> {
  vi.resetModules();
  // Vitest itself sets MODE=test; a handler's MODE must come from the test.
  for (const [k, v] of Object.entries({ MODE: 'enforce', ...env })) vi.stubEnv(k, v);
  const { resetClients } = await import('../../lib/aws/clients.js');
  resetClients();
  return (await import(path)) as T;
}
