// SDK clients, built once per account and Region and reused across invocations (cold-start cost paid once).
// Endpoints come from the SDK's own AWS_ENDPOINT_URL* variables, which is how the local sandbox is reached.
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Ec2Plugin } from './rate-limit.js';

export interface ClientOptions {
  maxAttempts?: number;
  /**
   * EC2 only. `adaptive` (default) adds the SDK's own client-side rate limiting to the back-off; a caller that
   * already paces itself with the token-bucket limiter and retries through a queue (the consumer) passes
   * `standard`, so throttling does not slow it down twice.
   */
  retryMode?: 'standard' | 'adaptive';
  /** Extra middleware for the EC2 client, e.g. the backfill's client-side rate limiter. */
  plugins?: Ec2Plugin[];
  /** Act in another account (lib/shell/accounts.ts credentialsFor); unset = the function's own account. */
  account?: AccountAccess;
}

/** A member account and the credentials that act in it. */
export interface AccountAccess {
  id: string;
  credentials: AwsCredentialIdentityProvider;
}

const acct = (opts: ClientOptions) => opts.account?.id ?? 'home';
const creds = (opts: ClientOptions) => (opts.account ? { credentials: opts.account.credentials } : {});

/**
 * EC2 answers IncorrectInstanceState while an instance is still pending (REFERENCE §1).
 * Marking it retryable lets the SDK's own retry strategy back off and try again.
 */
const retryIncorrectState: Ec2Plugin = {
  applyToStack(stack) {
    stack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          if (err && typeof err === 'object' && (err as { name?: string }).name === 'IncorrectInstanceState') {
            (err as { $retryable?: object }).$retryable = {};
          }
          throw err;
        }
      },
      // Inside the retry middleware (finalizeRequest, high), outside the deserializer.
      { step: 'finalizeRequest', priority: 'low', name: 'imdsGuardRetryIncorrectInstanceState' },
    );
  },
};

const cache = new Map<string, unknown>();
// Plugins are keyed by identity: the rate limiter hands out one stable plugin per Region.
const pluginIds = new WeakMap<object, number>();
let nextPluginId = 0;
function pluginKey(plugins: object[] = []): string {
  return plugins
    .map((p) => {
      if (!pluginIds.has(p)) pluginIds.set(p, ++nextPluginId);
      return pluginIds.get(p);
    })
    .join(',');
}

/**
 * The one client cache (cleared by resetClients): modules that keep a client of their own SDK out of this file,
 * so it stays out of the bundles that do not need it, cache it here too.
 * @example
 * const sh = cached(`securityhub:${region}`, () => new SecurityHubClient({ region }));
 */
export function cached<T>(key: string, make: () => T): T {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
}

export function ec2Client(region: string, opts: ClientOptions = {}): EC2Client {
  const key = `ec2:${acct(opts)}:${region}:${opts.maxAttempts ?? 6}:${opts.retryMode ?? 'adaptive'}:${pluginKey(opts.plugins)}`;
  return cached(key, () => {
    // Adaptive mode adds client-side rate limiting on top of backoff: the right thing for EC2's token buckets.
    const c = new EC2Client({ region, retryMode: opts.retryMode ?? 'adaptive', maxAttempts: opts.maxAttempts ?? 6, ...creds(opts) });
    c.middlewareStack.use(retryIncorrectState);
    for (const p of opts.plugins ?? []) c.middlewareStack.use(p);
    return c;
  });
}

export function snsClient(region: string, opts: ClientOptions = {}): SNSClient {
  return cached(`sns:${region}`, () => new SNSClient({ region, retryMode: 'adaptive', maxAttempts: opts.maxAttempts ?? 6 }));
}

/** The remediation queue's client (the event functions and the sweep send to it). */
export function sqsClient(region: string, opts: ClientOptions = {}): SQSClient {
  return cached(`sqs:${region}`, () => new SQSClient({ region, retryMode: 'adaptive', maxAttempts: opts.maxAttempts ?? 6 }));
}

export function eksClient(region: string, opts: ClientOptions = {}): EKSClient {
  return cached(
    `eks:${acct(opts)}:${region}`,
    () => new EKSClient({ region, retryMode: 'adaptive', maxAttempts: opts.maxAttempts ?? 6, ...creds(opts) }),
  );
}

/** IAM is global; its endpoint lives in us-east-1 (the sandbox serves it on the same URL). */
export function iamClient(opts: ClientOptions = {}): IAMClient {
  return cached(
    `iam:${acct(opts)}`,
    () => new IAMClient({ region: 'us-east-1', retryMode: 'adaptive', maxAttempts: opts.maxAttempts ?? 6, ...creds(opts) }),
  );
}

/** STS in the function's own Region (regional endpoint), with the function's own credentials: AssumeRole's caller. */
export function stsClient(region = process.env.AWS_REGION ?? 'us-east-1', opts: ClientOptions = {}): STSClient {
  return cached(`sts:${region}`, () => new STSClient({ region, retryMode: 'standard', maxAttempts: opts.maxAttempts ?? 3 }));
}

/** The Region of an ARN, e.g. an SNS topic in another Region than the event. */
export function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? process.env.AWS_REGION ?? 'us-east-1';
}

/** The Region of an SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`), else `fallback`. */
export function regionOfQueueUrl(url: string, fallback: string): string {
  return /^https?:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1] ?? fallback;
}

/** Tests point the same process at fresh endpoints; forget the cached clients. */
export function resetClients(): void {
  cache.clear();
}
