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
