// Contract between the HTTP layer and the Query-protocol services.
import type { Params } from '../protocol/query.js';
import type { Ctx } from '../runtime.js';

// Inputs are decoded from the wire by the SDK schema; handlers type them with SDK request types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (ctx: Ctx, input: any) => unknown;

interface ErrorSpec {
  code: string;
  status: number;
  message: string;
}

export interface QueryService {
  /** SigV4 credential-scope service name. */
  service: string;
  protocol: 'ec2' | 'query';
  xmlns: string;
  /** SDK client module whose `<Op>$` schemas decode inputs and encode outputs. */
  module?: Record<string, unknown>;
  handlers: Record<string, Handler>;
  /** For services without an installed SDK: raw params in, inner `<XResult>` XML out. */
  raw?: Record<string, (ctx: Ctx, params: Params) => string>;
  /** Subject to the EC2 token buckets. */
  throttled?: boolean;
  /** Global services keep their state in this Region. */
  globalRegion?: string;
  throttleError: ErrorSpec;
  serverError: ErrorSpec;
}
