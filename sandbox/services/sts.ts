// STS (awsQuery): GetCallerIdentity only.
import * as sts from '@aws-sdk/client-sts';
import type { Ctx } from '../runtime.js';
import type { QueryService } from './types.js';

export const stsService: QueryService = {
  service: 'sts',
  protocol: 'query',
  xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/',
  module: sts as unknown as Record<string, unknown>,
  throttleError: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  serverError: { code: 'InternalFailure', status: 500, message: 'An internal error occurred' },
  handlers: {
    GetCallerIdentity(ctx: Ctx) {
      const arn = ctx.rt.state.callerArn;
      const session = arn.split('/').pop() ?? 'local';
      return { UserId: `AROASANDBOXEXAMPLE0001:${session}`, Account: ctx.rt.state.accountId, Arn: arn };
    },
  },
};
