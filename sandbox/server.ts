// The local AWS sandbox: one node:http server speaking EC2 Query, awsQuery
// (SNS/STS/IAM), REST-JSON (EKS, Scheduler) and JSON 1.0 (DynamoDB, SQS), so unchanged SDK v3 clients work against it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as eks from '@aws-sdk/client-eks';
import * as scheduler from '@aws-sdk/client-scheduler';
import { Accounts, type AccountSpec, type AssumeRoleCall, type OrganizationSpec } from './accounts.js';
import { control } from './control.js';
import { AwsError } from './errors.js';
import { Faults, type FaultOptions } from './faults.js';
import { readBody, send } from './protocol/http.js';
import { json11Router } from './protocol/json11.js';
import { decodeQuery, parseForm } from './protocol/query.js';
import { buildRoutes, decodeRest, matchRoute, toJson } from './protocol/rest-json.js';
import { opNames, opSchemas } from './protocol/schema.js';
import { parseScope } from './protocol/sigv4.js';
import { ec2Error, ec2Response, encodeBody, queryError, queryResponse } from './protocol/xml.js';
import { ctxFor, Runtime, type Stats } from './runtime.js';
import { cloudtrailService } from './services/cloudtrail.js';
import { DynamoDb, type Item } from './services/dynamodb.js';
import { eventbridgeService } from './services/eventbridge.js';
import { ec2Service } from './services/ec2.js';
import { eksHandlers } from './services/eks.js';
import { iamService } from './services/iam.js';
import { organizationsService } from './services/organizations.js';
import { schedulerHandlers } from './services/scheduler.js';
import { securityhubService, seedFinding } from './services/securityhub.js';
import { Sqs, type SqsOptions } from './services/sqs.js';
import { sqsError } from './services/sqs-errors.js';
import { snsService } from './services/sns.js';
import { stsService } from './services/sts.js';
import type { QueryService } from './services/types.js';
import { SandboxState, type CapturedMessage, type SandboxConfig } from './state.js';
import { Throttler, type ThrottleOptions } from './throttle.js';

export type { CapturedMessage };
export { minSeconds } from './throttle.js';

export interface SandboxOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 111122223333. */
  accountId?: string;
  /** What DescribeRegions lists. Default us-east-1, eu-west-1, ap-southeast-2. Requests to other Regions still work. */
  regions?: string[];
  /** GetCallerIdentity ARN. */
  callerArn?: string;
  /** EC2 token buckets; enabled by default. */
  throttle?: ThrottleOptions;
  faults?: FaultOptions;
  /** Seeds ids and fault decisions (default 1). */
  seed?: number;
  /** No logging of unexpected errors. */
  quiet?: boolean;
  /** Status of new clusters/node groups, and whether UpdateNodegroupVersion replaces nodes. */
  eks?: Partial<SandboxConfig>;
  /** SQS durations (delays, visibility timeouts, long polls) divided by `timeScale`. */
  sqs?: SqsOptions;
  /** Other accounts, each with its own state; with any, an organization (home account included) exists. */
  accounts?: AccountSpec[];
  /** The organization's id, management account and root (defaults: o-sandbox0001, the home account, r-sbx1). */
  organization?: OrganizationSpec;
}

export interface Sandbox {
  url: string;
  /** AWS_ENDPOINT_URL, fake credentials and AWS_REGION (default eu-west-1 when listed, else the first Region).
   * With `account`, static keys (`AKID<account>`) that act in that account. */
  env(region?: string, account?: string): Record<string, string>;
  /** The home account's state. */
  state: SandboxState;
  /** Any account's state (created on first use). */
  account(id: string): SandboxState;
  /** Creates an IAM role in an account (trusting anyone unless `trustPolicy` says otherwise); returns its ARN. */
  createRole(account: string, name: string, trustPolicy?: string): string;
  /** Every AssumeRole call so far, with its outcome. */
  assumeRoleCalls(): AssumeRoleCall[];
  /** AssumeRole into `account` answers Throttling (true) or works again (false). */
  throttleAssumeRole(account: string, on?: boolean): void;
  /** DynamoDB tables (idempotency records): raw items, for assertions. */
  dynamodb: { items(table: string, region?: string): Item[] };
  /** Security Hub: import a finding of another product (AWS's controls), as that product would. */
  securityHub: { seed(finding: Record<string, unknown>, region?: string): void };
  /** SQS queue models (messages, receive counts), for assertions. */
  sqs: Sqs;
  setFaults(f: FaultOptions): void;
  setThrottle(t: ThrottleOptions): void;
  messages(): CapturedMessage[];
  stats(): Stats;
  /** Clears all state and stats and restores the start-up fault/throttle/EKS options. */
  reset(): void;
  close(): Promise<void>;
}

const QUERY_SERVICES: QueryService[] = [ec2Service, snsService, stsService, iamService];
const EKS_MODULE = eks as unknown as Record<string, unknown>;
const EKS_ROUTES = buildRoutes(EKS_MODULE);
const SCHEDULER_ROUTES = buildRoutes(scheduler as unknown as Record<string, unknown>);

interface RestService {
  name: string;
  routes: ReturnType<typeof buildRoutes>;
  handlers: Record<string, (ctx: ReturnType<typeof ctxFor>, input: any) => unknown>;
  throttle: () => AwsError;
  server: () => AwsError;
}

const EKS_SERVICE: RestService = {
  name: 'EKS',
  routes: EKS_ROUTES,
  handlers: eksHandlers as RestService['handlers'],
  throttle: () => new AwsError('ThrottlingException', 'Rate exceeded', 429),
  server: () => new AwsError('ServerException', 'An internal server error occurred', 500),
};
const SCHEDULER_SERVICE: RestService = {
  name: 'Scheduler',
  routes: SCHEDULER_ROUTES,
  handlers: schedulerHandlers,
  throttle: () => new AwsError('ThrottlingException', 'Rate exceeded', 429),
  server: () => new AwsError('InternalServerException', 'Unexpected error encountered while processing the request.', 500),
};
const KNOWN_OPS = new Map(QUERY_SERVICES.map((s) => [s, s.module ? opNames(s.module) : new Set<string>()]));

function pickQueryService(scopeService: string | undefined, action: string): QueryService {
  const byScope = QUERY_SERVICES.find((s) => s.service === scopeService);
  if (byScope) return byScope;
  return (
    QUERY_SERVICES.find((s) => s.handlers[action] || s.raw?.[action]) ??
    QUERY_SERVICES.find((s) => KNOWN_OPS.get(s)!.has(action)) ??
    ec2Service
  );
}

const DYNAMODB_TARGET = 'DynamoDB_20120810.';
const SQS_TARGET = 'AmazonSQS.';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const regions = opts.regions ?? ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
  const defaultRegion = regions.includes('eu-west-1') ? 'eu-west-1' : (regions[0] ?? 'us-east-1');
  const accountId = opts.accountId ?? '111122223333';
  const seed = opts.seed ?? 1;
  const config0: SandboxConfig = { clusterStatus: 'ACTIVE', nodegroupStatus: 'ACTIVE', rollNodesOnUpdate: true, ...opts.eks };
  const config = { ...config0 };
  const state = new SandboxState(
    accountId,
    regions,
    opts.callerArn ?? `arn:aws:sts::${accountId}:assumed-role/imds-guard-local/local`,
    config,
    seed,
  );
  const rt = new Runtime(state, new Throttler(opts.throttle ?? {}), new Faults(opts.faults ?? {}, seed));
  const accounts = new Accounts(state, opts.accounts ?? [], opts.organization, config, seed);
  rt.accounts = accounts;
  const dynamodb = new DynamoDb();
  const sqs = new Sqs(opts.sqs);
  const log = (...a: unknown[]) => {
    if (!opts.quiet) console.error('[sandbox]', ...a);
  };
  const json11 = json11Router(rt, [cloudtrailService, eventbridgeService, organizationsService], log);

  async function preamble(op: string): Promise<void> {
    const ms = rt.faults.latencyMs();
    if (ms > 0) await sleep(ms);
    rt.count('calls', op);
  }

  function injected(op: string, svc: { throttle: () => AwsError; server: () => AwsError }, service?: string): void {
    const kind = rt.faults.error(op, service);
    if (!kind) return;
    rt.count('faults', op);
    throw kind === 'throttle' ? svc.throttle() : svc.server();
  }

  async function handleQuery(req: IncomingMessage, res: ServerResponse, body: string, url: URL): Promise<void> {
    const params = parseForm(body);
    for (const [k, v] of url.searchParams) if (!params.has(k)) params.set(k, v);
    const scope = parseScope(req.headers.authorization);
    const action = params.get('Action') ?? '';
    const svc = pickQueryService(scope.service, action);
    const region = svc.globalRegion ?? scope.region ?? defaultRegion;
    const ctx = ctxFor(rt, region, action, undefined, scope.accessKeyId);
    const isEc2 = svc.protocol === 'ec2';
    const ok = (inner: string) =>
      send(
        res,
        200,
        'text/xml;charset=UTF-8',
        isEc2 ? ec2Response(action, ctx.requestId, inner) : queryResponse(action, svc.xmlns, ctx.requestId, inner),
        {
          'x-amzn-requestid': ctx.requestId,
        },
      );
    try {
      await preamble(action);
      const handler = svc.handlers[action];
      const raw = svc.raw?.[action];
      const schemas = svc.module ? opSchemas(svc.module, action) : undefined;
      if (!(handler && schemas) && !raw) {
        const known = KNOWN_OPS.get(svc)!.has(action) ? ' (known to AWS, not implemented by the imds-guard sandbox)' : '';
        throw new AwsError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service.${known}`);
      }
      const input = schemas ? decodeQuery(schemas.input, params, isEc2) : {};
      if (svc.throttled && !rt.throttle.take(region, action, input, ctx.rt.state.accountId)) {
        rt.count('throttled', action);
        throw new AwsError(svc.throttleError.code, svc.throttleError.message, svc.throttleError.status);
      }
      const spec = (e: typeof svc.throttleError) => () => new AwsError(e.code, e.message, e.status);
      injected(action, { throttle: spec(svc.throttleError), server: spec(svc.serverError) });
      if (isEc2 && input.DryRun === true) {
        throw new AwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
      }
      if (raw) return ok(raw(ctx, params));
      const out = await handler!(ctx, input);
      ok(encodeBody(schemas!.output, out));
    } catch (e) {
      const err = e instanceof AwsError ? e : unexpected(e, action);
      const xml = isEc2
        ? ec2Error(err.code, err.message, ctx.requestId)
        : queryError(svc.xmlns, err.status >= 500 ? 'Receiver' : 'Sender', err.code, err.message, ctx.requestId);
      send(res, err.status, 'text/xml;charset=UTF-8', xml, { 'x-amzn-requestid': ctx.requestId });
    }
  }

  function unexpected(e: unknown, op: string): AwsError {
    log(`unexpected error in ${op}:`, e);
    return new AwsError('InternalError', `Sandbox failure in ${op}: ${e instanceof Error ? e.message : String(e)}`, 500);
  }

  async function handleRest(req: IncomingMessage, res: ServerResponse, body: string, url: URL): Promise<void> {
    const scope = parseScope(req.headers.authorization);
    const svc = scope.service === 'scheduler' ? SCHEDULER_SERVICE : scope.service === 'securityhub' ? securityhubService : EKS_SERVICE;
    const region = scope.region ?? defaultRegion;
    const method = req.method ?? 'GET';
    const { route, labels, pathKnown } = matchRoute(svc.routes, method, url.pathname);
    const op = route?.op ?? `${method} ${url.pathname}`;
    const ctx = ctxFor(rt, region, op, undefined, scope.accessKeyId);
    try {
      await preamble(op);
      if (!route) {
        throw new AwsError(
          pathKnown ? 'MethodNotAllowedException' : 'UnknownOperationException',
          `The imds-guard sandbox has no ${svc.name} operation for ${method} ${url.pathname}`,
          pathKnown ? 405 : 404,
        );
      }
      const handler = svc.handlers[route.op];
      if (!handler) {
        throw new AwsError('UnsupportedOperation', `${svc.name} operation ${route.op} is not implemented by the imds-guard sandbox`);
      }
      let input: Record<string, unknown>;
      try {
        input = decodeRest(route, labels, url.searchParams, body);
      } catch {
        throw new AwsError(svc === EKS_SERVICE ? 'InvalidRequestException' : 'ValidationException', 'The request body is not valid JSON');
      }
      injected(op, svc, svc.name.toLowerCase());
      const out = await handler(ctx, input);
      send(res, 200, 'application/json', JSON.stringify(toJson(out)), { 'x-amzn-requestid': ctx.requestId });
    } catch (e) {
      const err = e instanceof AwsError ? e : unexpected(e, op);
      send(res, err.status, 'application/json', JSON.stringify({ message: err.message, ...err.extra }), {
        'x-amzn-errortype': err.code,
        'x-amzn-requestid': ctx.requestId,
      });
    }
  }

  /** DynamoDB's JSON 1.0 protocol: the operation is in X-Amz-Target, errors carry `__type`. */
  async function handleJson(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const scope = parseScope(req.headers.authorization);
    const region = scope.region ?? defaultRegion;
    const op = String(req.headers['x-amz-target']).slice(DYNAMODB_TARGET.length);
    const ctx = ctxFor(rt, region, op);
    const reply = (status: number, payload: unknown) =>
      send(res, status, 'application/x-amz-json-1.0', JSON.stringify(payload), { 'x-amzn-requestid': ctx.requestId });
    try {
      await preamble(op);
      let input: unknown;
      try {
        input = body ? JSON.parse(body) : {};
      } catch {
        throw new AwsError('SerializationException', 'The request body is not valid JSON');
      }
      injected(op, {
        throttle: () =>
          new AwsError('ProvisionedThroughputExceededException', 'Throughput exceeds the current capacity of your table or index.'),
        server: () => new AwsError('InternalServerError', 'Internal server error', 500),
      });
      reply(200, dynamodb.handle(ctx, op, input));
    } catch (e) {
      const err = e instanceof AwsError ? e : unexpected(e, op);
      reply(err.status, { __type: `com.amazonaws.dynamodb.v20120810#${err.code}`, message: err.message, ...err.extra });
    }
  }

  /** SQS's JSON 1.0 protocol with query-compatible errors (`x-amzn-query-error`). */
  async function handleSqs(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const scope = parseScope(req.headers.authorization);
    const region = scope.region ?? defaultRegion;
    const op = String(req.headers['x-amz-target']).slice(SQS_TARGET.length);
    const ctx = ctxFor(rt, region, op);
    const headers = { 'x-amzn-requestid': ctx.requestId };
    try {
      await preamble(op);
      let input: unknown;
      try {
        input = body ? JSON.parse(body) : {};
      } catch {
        throw new AwsError('SerializationException', 'The request body is not valid JSON');
      }
      injected(
        op,
        {
          throttle: () => new AwsError('RequestThrottled', 'Rate exceeded', 403),
          server: () => new AwsError('ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', 503),
        },
        'sqs',
      );
      const caller = { host: String(req.headers.host ?? '127.0.0.1'), senderId: scope.accessKeyId ?? 'AIDASANDBOX' };
      const out = await sqs.handle(ctx, op, input, caller);
      send(res, 200, 'application/x-amz-json-1.0', JSON.stringify(out), headers);
    } catch (e) {
      const err = sqsError(e instanceof AwsError ? e : unexpected(e, op));
      send(res, err.status, 'application/x-amz-json-1.0', JSON.stringify(err.body), { ...headers, ...err.headers });
    }
  }

  function setFaults(f: FaultOptions): void {
    rt.faults.set(f);
    const p = f.pending;
    if (!p?.ids?.length) return;
    for (const rs of accounts.all().flatMap((a) => a.regions())) {
      for (const id of p.ids) {
        const inst = rs.instances.get(id);
        if (!inst || inst.state === 'terminated') continue;
        inst.state = 'pending';
        inst.pendingUntil = Date.now() + (p.ms ?? 0);
        inst.pendingAttempts = p.modifyAttempts ?? 0;
      }
    }
  }

  function reset(): void {
    accounts.reset();
    dynamodb.reset();
    sqs.reset();
    sqs.configure(opts.sqs ?? {});
    Object.assign(state.config, config0);
    rt.throttle.configure(opts.throttle ?? {});
    rt.faults.set({ seed, ...opts.faults });
    rt.resetStats();
  }

  let sandboxUrl = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    readBody(req)
      .then((body) => {
        if (url.pathname.startsWith('/_sandbox')) return control({ rt, url: sandboxUrl, setFaults, reset }, req, res, body, url);
        const target = String(req.headers['x-amz-target'] ?? '');
        if (target.startsWith(DYNAMODB_TARGET)) return handleJson(req, res, body);
        if (target.startsWith(SQS_TARGET)) return handleSqs(req, res, body);
        const j11 = json11.match(req);
        if (j11) {
          const sc = parseScope(req.headers.authorization);
          return json11.handle(j11, req, res, body, sc.region ?? defaultRegion, sc.accessKeyId);
        }
        const ct = String(req.headers['content-type'] ?? '');
        const scope = parseScope(req.headers.authorization);
        const isQuery = ct.includes('x-www-form-urlencoded') || url.searchParams.has('Action');
        return isQuery && scope.service !== 'eks' ? handleQuery(req, res, body, url) : handleRest(req, res, body, url);
      })
      .catch((e: unknown) => {
        log('request failed', e);
        if (!res.headersSent) send(res, 500, 'text/plain', 'sandbox failure');
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  sandboxUrl = url;
  if (opts.faults) setFaults(opts.faults);

  return {
    url,
    env: (region = defaultRegion, account?: string) => ({
      AWS_ENDPOINT_URL: url,
      AWS_ACCESS_KEY_ID: account && account !== accountId ? `AKID${account}` : 'AKIDSANDBOX',
      AWS_SECRET_ACCESS_KEY: 'sandbox-secret',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    state,
    account: (id) => accounts.state(id),
    createRole: (account, name, trustPolicy) => accounts.createRole(account, name, trustPolicy),
    assumeRoleCalls: () => structuredClone(accounts.assumeRoleCalls),
    throttleAssumeRole: (account, on = true) =>
      void (on ? accounts.throttledAssumeRole.add(account) : accounts.throttledAssumeRole.delete(account)),
    dynamodb: { items: (table, region = defaultRegion) => dynamodb.items(table, region) },
    securityHub: { seed: (finding, region = defaultRegion) => seedFinding(state.region(region), finding) },
    sqs,
    setFaults,
    setThrottle: (t) => rt.throttle.configure(t),
    messages: () => [...state.messages],
    stats: () => structuredClone(rt.stats),
    reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        sqs.close();
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
