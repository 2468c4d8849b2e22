// How doctor words a read that failed. Pure.
import type { CheckResult, ReadError } from './facts.js';

const DENIED = /AccessDenied|UnauthorizedOperation|NotAuthorized|Forbidden/i;

/**
 * One line for a failed read: the missing permission when denied, else the error.
 * @example readError({ action: 'sqs:GetQueueUrl', name: 'AccessDenied', message: 'no' }) // 'not allowed: sqs:GetQueueUrl (AccessDenied)'
 */
export function readError(e: ReadError): string {
  if (DENIED.test(e.name)) return `not allowed: ${e.action} (${e.name})`;
  if (e.name === 'CredentialsProviderError') return 'no AWS credentials: pass --profile NAME or set AWS_PROFILE / AWS_ACCESS_KEY_ID';
  return `${e.action} failed: ${e.name}: ${e.message.split('\n')[0]}`;
}

/** A check that could not run. */
export const failed = (check: CheckResult['check'], e: ReadError, details: string[] = []): CheckResult => ({
  check,
  status: 'error',
  summary: readError(e),
  details,
});
