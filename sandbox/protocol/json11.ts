// AWS JSON 1.1 (CloudTrail, EventBridge): the operation is in X-Amz-Target (`<Prefix>.<Op>`), the body is plain JSON,
// timestamps are epoch seconds and errors carry `__type`. Latency, call counts and injected faults as for the others.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from '../errors.js';
import { ctxFor, type Runtime } from '../runtime.js';
import type { Handler } from '../services/types.js';
import { send } from './http.js';

/** One JSON 1.1 service: its X-Amz-Target prefix and a handler per operation (JSON in, JSON out). */
export interface Json11Service {
  /** e.g. `CloudTrail_20131101` or `AWSEvents`. */
  target: string;
  /** SDK error namespace in `__type`, e.g. `com.amazonaws.cloudtrail.v20131101`. */
  namespace: string;
  /** Inputs are the SDK request shapes, decoded from JSON. */
  handlers: Record<string, Handler>;
  throttle: () => AwsError;
  server: () => AwsError;
}

export interface Json11Router {
  /** The service this request is for, or undefined. */
  match(req: IncomingMessage): Json11Service | undefined;
  handle(svc: Json11Service, req: IncomingMessage, res: ServerResponse, body: string, region: string, accessKeyId?: string): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Routes JSON 1.1 requests to `services`.
 * @example
 * const json11 = json11Router(rt, [cloudtrailService, eventbridgeService], log);
 * const svc = json11.match(req); if (svc) return json11.handle(svc, req, res, body, region);
 */
export function json11Router(rt: Runtime, services: Json11Service[], log: (...a: unknown[]) => void): Json11Router {
  const target = (req: IncomingMessage) => String(req.headers['x-amz-target'] ?? '');
  return {
    match: (req) => services.find((s) => target(req).startsWith(`${s.target}.`)),
    async handle(svc, req, res, body, region, accessKeyId) {
      const op = target(req).slice(svc.target.length + 1);
      const ctx = ctxFor(rt, region, op, undefined, accessKeyId);
      const reply = (status: number, payload: unknown) =>
        send(res, status, 'application/x-amz-json-1.1', JSON.stringify(payload), { 'x-amzn-requestid': ctx.requestId });
      try {
        const ms = rt.faults.latencyMs();
        if (ms > 0) await sleep(ms);
        rt.count('calls', op);
        const handler = svc.handlers[op];
        if (!handler) throw new AwsError('UnknownOperationException', `${svc.target}.${op} is not implemented by the imds-guard sandbox`);
        let input: unknown;
        try {
          input = body ? JSON.parse(body) : {};
        } catch {
          throw new AwsError('SerializationException', 'The request body is not valid JSON');
        }
        const fault = rt.faults.error(op);
        if (fault) {
          rt.count('faults', op);
          throw fault === 'throttle' ? svc.throttle() : svc.server();
        }
        reply(200, (await handler(ctx, input)) ?? {});
      } catch (e) {
        const err = e instanceof AwsError ? e : new AwsError('InternalFailure', `Sandbox failure in ${op}: ${String(e)}`, 500);
        if (!(e instanceof AwsError)) log(`unexpected error in ${op}:`, e);
        reply(err.status, { __type: `${svc.namespace}#${err.code}`, message: err.message, ...err.extra });
      }
    },
  };
}

/** Epoch seconds, as JSON 1.1 sends timestamps. */
export const epoch = (d: Date) => d.getTime() / 1000;
