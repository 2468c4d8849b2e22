// Run a function module the way Lambda does: import once (cold start), then invoke with a context.
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

type Handler = (event: unknown, context: Context) => Promise<any>;
const loaded = new Map<string, Promise<Handler>>();

export function context(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:111122223333:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 120_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export async function invoke(functionName: string, event: unknown): Promise<any> {
  if (!loaded.has(functionName)) {
    const url = pathToFileURL(join(import.meta.dirname, '../../functions', `${functionName}.ts`)).href;
    loaded.set(
      functionName,
      import(url).then((m: { handler: Handler }) => m.handler),
    );
  }
  return (await loaded.get(functionName)!)(event, context(functionName));
}
