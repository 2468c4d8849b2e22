// SQS errors on the JSON wire: `__type` names the Smithy shape and `x-amzn-query-error` carries the legacy
// query code (e.g. `AWS.SimpleQueueService.NonExistentQueue;Sender`), which the SDK matches first.
// Codes and statuses come from the installed @aws-sdk/client-sqs error schemas.
import * as sqsModule from '@aws-sdk/client-sqs';
import type { AwsError } from '../errors.js';

const QUERY_CODES = new Map<string, [string, number]>();
for (const [k, v] of Object.entries(sqsModule as Record<string, unknown>)) {
  if (!k.endsWith('$') || !Array.isArray(v) || v[0] !== -3) continue;
  const traits = v[3] as { awsQueryError?: [string, number] } | undefined;
  if (traits?.awsQueryError) QUERY_CODES.set(String(v[2]), traits.awsQueryError);
}

/** The status, JSON body and headers SQS answers an error with. */
export function sqsError(err: AwsError): { status: number; body: Record<string, unknown>; headers: Record<string, string> } {
  const modelled = QUERY_CODES.get(err.code);
  const status = modelled?.[1] ?? err.status;
  const fault = status >= 500 ? 'Receiver' : 'Sender';
  return {
    status,
    body: { __type: `com.amazonaws.sqs#${err.code}`, message: err.message },
    headers: { 'x-amzn-query-error': `${modelled?.[0] ?? err.code};${fault}` },
  };
}
