// STS (awsQuery): GetCallerIdentity and AssumeRole. AssumeRole issues keys that act in the target account
// (sandbox/accounts.ts) and refuses, as STS does, a role that does not exist or does not trust the caller.
import * as sts from '@aws-sdk/client-sts';
import { AwsError } from '../errors.js';
import type { Ctx } from '../runtime.js';
import { trusts } from './sts-trust.js';
import type { QueryService } from './types.js';

const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

function callerOf(ctx: Ctx) {
  const accounts = ctx.rt.accounts;
  const arn = accounts ? accounts.callerArn(ctx.accessKeyId) : ctx.rt.state.callerArn;
  const chained = !!(ctx.accessKeyId && accounts?.issued.has(ctx.accessKeyId));
  return { arn, chained, account: ctx.rt.state.accountId };
}

interface AssumeRoleInput {
  RoleArn?: string;
  RoleSessionName?: string;
  DurationSeconds?: number;
}

function assumeRole(ctx: Ctx, input: AssumeRoleInput) {
  const accounts = ctx.rt.accounts;
  if (!accounts) throw new AwsError('InternalFailure', 'The sandbox has no account registry', 500);
  const caller = callerOf(ctx);
  const roleArn = input.RoleArn ?? '';
  const sessionName = input.RoleSessionName ?? '';
  const m = ROLE_ARN.exec(roleArn);
  const account = m?.[1] ?? '';
  const log = (outcome: 'ok' | 'AccessDenied' | 'Throttling' | 'ValidationError') =>
    accounts.assumeRoleCalls.push({
      callerAccount: caller.account,
      callerArn: caller.arn,
      roleArn,
      account,
      sessionName,
      outcome,
      time: Date.now(),
    });
  const seconds = input.DurationSeconds ?? 3600;
  const invalid =
    (!m && `Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must be a role ARN`) ||
    (!SESSION_NAME.test(sessionName) &&
      `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}`) ||
    ((seconds < 900 || seconds > 43200) && `Value '${seconds}' at 'durationSeconds' failed to satisfy constraint`) ||
    (caller.chained &&
      seconds > 3600 &&
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  if (invalid) {
    log('ValidationError');
    throw new AwsError('ValidationError', invalid);
  }
  if (accounts.throttledAssumeRole.has(account)) {
    log('Throttling');
    throw new AwsError('Throttling', 'Rate exceeded', 400);
  }
  const role = accounts.state(account).roles.get(m![2]!);
  const orgId = accounts.inOrganization(caller.account) ? accounts.organization?.id : undefined;
  if (!role || role.arn !== roleArn.replace(/role\/.*\//, 'role/') || !trusts(role.trustPolicy, { ...caller, orgId })) {
    log('AccessDenied');
    throw new AwsError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
  }
  const arn = `arn:aws:sts::${account}:assumed-role/${role.name}/${sessionName}`;
  const c = accounts.issue(account, arn, seconds);
  log('ok');
  return {
    Credentials: {
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: accounts.key(40),
      SessionToken: `sandbox-session-${accounts.key(32)}`,
      Expiration: new Date(c.expiresAt),
    },
    AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${sessionName}`, Arn: arn },
    PackedPolicySize: 0,
  };
}

export const stsService: QueryService = {
  service: 'sts',
  protocol: 'query',
  xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/',
  module: sts as unknown as Record<string, unknown>,
  throttleError: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  serverError: { code: 'InternalFailure', status: 500, message: 'An internal error occurred' },
  handlers: {
    GetCallerIdentity(ctx: Ctx) {
      const arn = callerOf(ctx).arn;
      const session = arn.split('/').pop() ?? 'local';
      return { UserId: `AROASANDBOXEXAMPLE0001:${session}`, Account: ctx.rt.state.accountId, Arn: arn };
    },
    AssumeRole: assumeRole,
  },
};
