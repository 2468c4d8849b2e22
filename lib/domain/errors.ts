// What a caught value tells: its name and message, and the AWS request id when an SDK call failed. Pure.
import type { AuditRecord } from './audit.js';

/** An error as audit records and results carry it. */
export type ErrorInfo = NonNullable<AuditRecord['error']>;

/**
 * Name and message of anything thrown; a thrown non-Error becomes `{ name: 'Error', message: String(err) }`.
 *
 * @example
 * errorOf(new TypeError('no')); // => { name: 'TypeError', message: 'no' }
 * errorOf('boom');              // => { name: 'Error', message: 'boom' }
 */
export function errorOf(err: unknown): ErrorInfo {
  const e = err as { name?: unknown; message?: unknown } | null | undefined;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
}

/**
 * `name: message`, for one-line fields such as an identity check's error.
 *
 * @example
 * errorText(new RangeError('too far')); // => 'RangeError: too far'
 */
export function errorText(err: unknown): string {
  const e = errorOf(err);
  return `${e.name}: ${e.message}`;
}

/**
 * The AWS request id (`$metadata.requestId`) of an SDK error or output, as a field to spread: `{}` when absent.
 *
 * @example
 * withRequestId({ $metadata: { requestId: 'r-1' } }); // => { requestId: 'r-1' }
 * withRequestId(new Error('x'));                      // => {}
 */
export function withRequestId(x: unknown): { requestId?: string } {
  const id = (x as { $metadata?: { requestId?: unknown } } | null | undefined)?.$metadata?.requestId;
  return typeof id === 'string' && id ? { requestId: id } : {};
}
