// Acting in a member account (issue 14): STS AssumeRole into its member role, credentials cached per account
// until shortly before they expire (one AssumeRole per account per credential lifetime, concurrent callers share
// it), a refusal cached briefly so a member without the role does not cost one AssumeRole per event. The home
// account acts with the function's own credentials.
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { stsClient } from './clients.js';

export interface AccountAccessOptions {
  /** The member role's name (config MEMBER_ROLE_NAME). */
  roleName: string;
  /** Default `aws`. */
  partition?: string;
  /** RoleSessionName of the next AssumeRole (see sessionName()); default `imds-guard`. */
  sessionName?: string;
  /** Default 3600 (AWS's default; role chaining caps it there). */
  durationSeconds?: number;
  /** STS client to call (default: the home Region's, cached). */
  sts?: STSClient;
}

/** AssumeRole into a member account failed: names the account, the role and why (`reason` is AWS's error name). */
export class MemberAccessError extends Error {
  override name = 'MemberAccessError';
  constructor(
    readonly account: string,
    readonly roleArn: string,
    readonly reason: string,
    detail: string,
  ) {
    super(`cannot act in account ${account}: sts:AssumeRole on ${roleArn} failed (${reason}): ${detail}`);
  }
}

/** Renew credentials this long before they expire. */
const REFRESH_BEFORE_MS = 5 * 60_000;
/** A refused AssumeRole (no role, no trust) is not retried for this long. */
const DENIED_TTL_MS = 60_000;

interface Entry {
  provider: AwsCredentialIdentityProvider;
  creds?: AwsCredentialIdentity;
  inflight?: Promise<AwsCredentialIdentity>;
  denied?: { error: MemberAccessError; until: number };
  sessionName: string;
}

const entries = new Map<string, Entry>();
const counters = { assumeRole: 0 };

/**
 * A RoleSessionName that identifies imds-guard and the event (2-64 chars of `[\w+=,.@-]`).
 * @example
 * sessionName('8a5c1f0e-1b2c-4d5e-9f00-123456789abc'); // 'imds-guard-8a5c1f0e-1b2c-4d5e-9f00-123456789abc'
 */
export function sessionName(eventId?: string): string {
  const id = (eventId ?? '').replace(/[^\w+=,.@-]/g, '').slice(0, 53);
  return id ? `imds-guard-${id}` : 'imds-guard';
}

/** The member role's ARN in an account. */
const memberRoleArn = (account: string, roleName: string, partition = 'aws') => `arn:${partition}:iam::${account}:role/${roleName}`;

async function assume(entry: Entry, account: string, opts: AccountAccessOptions): Promise<AwsCredentialIdentity> {
  const roleArn = memberRoleArn(account, opts.roleName, opts.partition);
  counters.assumeRole++;
  try {
    const out = await (opts.sts ?? stsClient()).send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: entry.sessionName, DurationSeconds: opts.durationSeconds ?? 3600 }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw Object.assign(new Error('AssumeRole returned no credentials'), { name: 'NoCredentials' });
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
  } catch (e) {
    const err = e as { name?: string; message?: string };
    const failure = new MemberAccessError(account, roleArn, err.name ?? 'Error', err.message ?? String(e));
    if (err.name === 'AccessDenied' || err.name === 'AccessDeniedException')
      entry.denied = { error: failure, until: Date.now() + DENIED_TTL_MS };
    throw failure;
  }
}

function fresh(c: AwsCredentialIdentity | undefined): c is AwsCredentialIdentity {
  return !!c && (!c.expiration || c.expiration.getTime() - Date.now() > REFRESH_BEFORE_MS);
}

/**
 * A credential provider acting in `account` through its member role; the same provider object per account,
 * role and partition (so clients built from it can be cached), and at most one AssumeRole at a time per account.
 * A failure rejects with a MemberAccessError.
 * @example
 * const ec2 = new EC2Client({ region, credentials: credentialsFor('444455556666', { roleName: 'imds-guard-member' }) });
 */
export function credentialsFor(account: string, opts: AccountAccessOptions): AwsCredentialIdentityProvider {
  const key = `${opts.partition ?? 'aws'}:${account}:${opts.roleName}`;
  let entry = entries.get(key);
  if (!entry) {
    const e: Entry = {
      sessionName: sessionName(),
      provider: async () => {
        if (fresh(e.creds)) return e.creds;
        if (e.denied && e.denied.until > Date.now()) throw e.denied.error;
        e.inflight ??= assume(e, account, opts)
          .then((c) => {
            e.creds = c;
            e.denied = undefined;
            return c;
          })
          .finally(() => {
            e.inflight = undefined;
          });
        return e.inflight;
      },
    };
    entry = e;
    entries.set(key, entry);
  }
  if (opts.sessionName) entry.sessionName = opts.sessionName;
  return entry.provider;
}

/** The account of a Lambda invocation (`invokedFunctionArn`), the home account of a hub. */
export function accountOfFunctionArn(arn: string | undefined): string | undefined {
  return /^arn:[\w-]+:lambda:[\w-]+:(\d{12}):/.exec(arn ?? '')?.[1];
}

/** AssumeRole calls made by this process (for benchmarks and logs). */
export function assumeRoleCount(): number {
  return counters.assumeRole;
}

/** Tests point the same process at fresh sandboxes: forget cached credentials. */
export function resetAccountCredentials(): void {
  entries.clear();
  counters.assumeRole = 0;
}
