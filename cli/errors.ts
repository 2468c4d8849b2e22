// CLI errors: usage mistakes, and the one-line explanation of the AWS errors people actually hit.

/** A user mistake: one line on stderr, exit 2, no AWS call. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const CREDENTIAL_ERRORS = [
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'AuthFailure',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
];
const NETWORK_ERRORS = ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT'];
const NO_CREDENTIALS =
  'no AWS credentials found: pass --profile NAME (or set AWS_PROFILE / AWS_ACCESS_KEY_ID); ' +
  'for a local run start the sandbox with `npm run sandbox` and export the variables it prints';

/**
 * Maps the errors people actually hit to one line with the fix.
 * @example
 * explain(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), 'http://127.0.0.1:4566');
 * // 'cannot reach http://127.0.0.1:4566 (ECONNREFUSED): is the sandbox running? `npm run sandbox`'
 */
export function explain(err: unknown, endpoint?: string): string {
  const e = err as { name?: string; message?: string; code?: string; errors?: { code?: string }[]; $metadata?: unknown };
  const name = e?.name ?? 'Error';
  const msg = e?.message ?? String(err);
  const code = e?.code ?? e?.errors?.[0]?.code;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(msg)) return NO_CREDENTIALS;
  if (CREDENTIAL_ERRORS.includes(name)) {
    return `AWS rejected the credentials (${name}: ${msg}); refresh them (e.g. aws sso login) or pick another --profile`;
  }
  if (code && NETWORK_ERRORS.includes(code)) {
    return `cannot reach ${endpoint ?? 'the AWS endpoint'} (${code})${endpoint ? ': is the sandbox running? `npm run sandbox`' : ''}`;
  }
  if (name === 'UnauthorizedOperation' || name === 'AccessDenied' || name === 'AccessDeniedException') return `not allowed: ${msg}`;
  return `${name}: ${msg}`;
}
