// The one sandbox harness for tests. `startTestSandbox` is how every test starts the local AWS emulator
// (quiet, throttling off unless asked); `harness` adds real SDK clients pointed at it; `startTarget` is the
// end-to-end target: the sandbox or, when IMDS_GUARD_E2E_ENDPOINT is set, another AWS-compatible endpoint
// (LocalStack, say). Seeding uses only public APIs; assertions only the sandbox can make (captured SNS
// messages, call counts) run under `sandboxIt`.
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/server.js';
import { lambdaContext, loadFunction } from './lambda.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A fresh sandbox on a free port: quiet, and without throttling unless `opts.throttle` says otherwise. */
export function startTestSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ quiet: true, throttle: { enabled: false }, ...opts });
}

// ---- Real SDK clients pointed at a fresh sandbox (sandbox API tests, kind tests) ----

export interface Harness {
  sb: Sandbox;
  cfg: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number };
  ec2: EC2Client;
  eks: EKSClient;
  sns: SNSClient;
  sts: STSClient;
  iam: IAMClient;
  /** Clients for another Region. */
  inRegion(region: string): { ec2: EC2Client; eks: EKSClient };
}

export async function harness(opts: SandboxOptions = {}): Promise<Harness> {
  const sb = await startTestSandbox(opts);
  const mk = (region: string) => ({
    endpoint: sb.url,
    region,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
  const cfg = mk('eu-west-1');
  return {
    sb,
    cfg,
    ec2: new EC2Client(cfg),
    eks: new EKSClient(cfg),
    sns: new SNSClient(cfg),
    sts: new STSClient(cfg),
    iam: new IAMClient(cfg),
    inRegion: (r) => ({ ec2: new EC2Client(mk(r)), eks: new EKSClient(mk(r)) }),
  };
}

/** The SDK error a promise rejects with. */
export async function errorOf(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

// ---- End to end: the real handlers, over HTTP ----

const EXTERNAL = process.env.IMDS_GUARD_E2E_ENDPOINT;
/** Which emulator the e2e suite runs against: the sandbox, moto_server (scripts/test-runs.mjs), or another endpoint. */
export const e2eTarget: 'sandbox' | 'moto' | 'external' = !EXTERNAL
  ? 'sandbox'
  : process.env.IMDS_GUARD_E2E_EMULATOR === 'moto'
    ? 'moto'
    : 'external';

/** `it`, or on another endpoint `it.skip` with the reason in the test's name, so the skip says why. */
function skipElsewhere(skip: boolean, reason: string): typeof it {
  if (!skip) return it;
  const label = (name: string) => `${name} [skipped: ${reason}]`;
  const named = (name: string, ...rest: any[]) => (it.skip as any)(label(name), ...rest);
  const each =
    (cases: any) =>
    (name: string, ...rest: any[]) =>
      (it.skip.each(cases) as any)(label(name), ...rest);
  return Object.assign(named, { each }) as unknown as typeof it;
}

/** A test that needs the sandbox's own introspection (fault injection, control API, throttling, call counts). */
export const sandboxIt = skipElsewhere(e2eTarget !== 'sandbox', 'sandbox only');

/** A test that needs an AWS API moto_server does not implement (docs/sandbox.md lists them). */
export function motoLacksIt(api: string) {
  return skipElsewhere(e2eTarget === 'moto', `moto lacks ${api}`);
}

/** moto keeps state for its whole life: each test file starts from an empty account. */
async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}

export interface Target {
  endpoint: string;
  region: string;
  sandbox?: Sandbox;
  topicArn: string;
  ec2: EC2Client;
  close(): Promise<void>;
}

export async function startTarget(opts: SandboxOptions = {}): Promise<Target> {
  const region = process.env.AWS_REGION ?? 'eu-west-1';
  const sandbox = EXTERNAL ? undefined : await startTestSandbox(opts);
  const endpoint = EXTERNAL ?? sandbox!.url;
  if (e2eTarget === 'moto') await resetMoto(endpoint);
  const cfg = { region, endpoint };
  const topic = await new SNSClient(cfg).send(new CreateTopicCommand({ Name: `imds-guard-e2e-${Date.now()}` }));
  return {
    endpoint,
    region,
    ...(sandbox ? { sandbox } : {}),
    topicArn: topic.TopicArn!,
    ec2: new EC2Client(cfg),
    close: async () => sandbox?.close(),
  };
}

type Handler = (event: unknown, context: unknown) => Promise<any>;

/** A function module loaded cold with its env pointed at the target, as Lambda would run it. */
export async function lambdaFor(t: Target, fn: string, env: Record<string, string> = {}): Promise<(event: unknown) => Promise<any>> {
  const mod = await loadFunction<{ handler: Handler }>(`../../functions/${fn}.js`, {
    AWS_ENDPOINT_URL: t.endpoint,
    AWS_REGION: t.region,
    TOPIC_ARN: t.topicArn,
    SELF_ROLE_NAMES: 'imds-guard-e2e',
    MAX_ATTEMPTS: '8',
    ...env,
  });
  return (event) => mod.handler(event, lambdaContext(fn));
}

export async function describe(t: Target, ids: string[]): Promise<Map<string, Instance>> {
  const out = await t.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return new Map(out.Reservations!.flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId!, i]));
}

export function options(i: Instance | undefined): [string | undefined, number | undefined] {
  return [i?.MetadataOptions?.HttpTokens, i?.MetadataOptions?.HttpPutResponseHopLimit];
}

/** Sandbox calls per operation since the last snapshot. */
export function callCounter(t: Target) {
  let base: Record<string, number> = { ...(t.sandbox?.stats().calls ?? {}) };
  return {
    since(): Record<string, number> {
      const now = t.sandbox?.stats().calls ?? {};
      const diff = Object.fromEntries(
        Object.entries(now)
          .map(([k, v]) => [k, v - (base[k] ?? 0)])
          .filter(([, v]) => (v as number) > 0),
      );
      base = { ...now };
      return diff;
    },
  };
}

/** The idempotency table the stack creates (key `id`, on demand), on the sandbox or another endpoint. */
export async function createIdempotencyTable(endpoint: string, region: string, name: string): Promise<void> {
  await new DynamoDBClient({ region, endpoint }).send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
}

/**
 * The audit records published to the target's topic from now on: the sandbox's captured messages, or, on another
 * endpoint (moto), the messages of an SQS queue subscribed to the topic (raw delivery).
 */
export async function publishedRecords(t: Target): Promise<() => Promise<any[]>> {
  const fromBody = (body: string) => (JSON.parse(body).records ?? []) as any[];
  if (t.sandbox) {
    const seen = t.sandbox.messages().length;
    return async () =>
      t
        .sandbox!.messages()
        .slice(seen)
        .flatMap((m) => fromBody(m.bodies.default!));
  }
  const sqs = new SQSClient({ region: t.region, endpoint: t.endpoint });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `records-${Date.now()}` }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await new SNSClient({ region: t.region, endpoint: t.endpoint }).send(
    new SubscribeCommand({
      TopicArn: t.topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes!.QueueArn!,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return async () => {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    return (out.Messages ?? []).flatMap((m) => fromBody(m.Body!));
  };
}

/** The audit store table the stack creates (infra/resources.yml AuditTable): key (eventId, id), index byDay (day, at). */
export async function createAuditTable(endpoint: string, region: string, name: string): Promise<void> {
  await new DynamoDBClient({ region, endpoint }).send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'eventId', KeyType: 'HASH' },
        { AttributeName: 'id', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: ['eventId', 'id', 'day', 'at'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byDay',
          KeySchema: [
            { AttributeName: 'day', KeyType: 'HASH' },
            { AttributeName: 'at', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}
