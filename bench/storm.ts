// npm run bench:storm — a scale-up storm through the BUILT enforce-instances bundle, side by side:
// (a) today's direct path (REMEDIATION_QUEUE_URL unset: each event invocation calls ModifyInstanceMetadataOptions)
// (b) the queued path (REMEDIATION_QUEUE_URL set: the event function enqueues, remediate-instances drains the
//     queue under an SQS event source with MaximumConcurrency = QUEUE_CONCURRENCY = 2, batch size 10).
// Each path runs on a fresh sandbox with AWS's real EC2 buckets and refill rates (timeScale 1): a time scale
// would flatter the direct path, whose SDK back-off does not scale. N nodes arrive as N/10 RunInstances events,
// taken one at a time by C containers (each its own import of the bundle: its own SDK clients, rate limiter and
// retry state, as separate Lambda containers). Then the quiet path: one event with 3 nodes, event to first Modify.
//
// Env: BENCH_NODES (default 1500), BENCH_CONTAINERS (default 20), BENCH_SKIP_DIRECT=1,
//      BENCH_PRODUCER=stand-in (enqueue with toQueueItem + enqueue instead of the bundle; automatic when the
//      built enforce-instances does not enqueue yet).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { enqueue } from '../lib/kinds/instance/queue.js';
import { toQueueItem } from '../lib/kinds/instance/queue-item.js';
import * as ct from '../sandbox/cloudtrail.js';
import { fakeContext, startSqsEventSource, type SqsEventSource } from '../sandbox/event-source.js';
import { startSandbox, type Sandbox } from '../sandbox/server.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const N = Number(process.env.BENCH_NODES ?? 1500);
const C = Number(process.env.BENCH_CONTAINERS ?? 20);
const PER_EVENT = 10;
const QUEUE_CONCURRENCY = 2;
const MAX_RECEIVES = 8;
const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const BURST = 100;
const REFILL = 5;
const MIN_SECONDS = Math.max(0, N - BURST) / REFILL;
const TARGETS = { left: 0, callsPerNode: 1.05, ratio: 1.1, quietSeconds: 2 };
const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' };
const DIST = join(import.meta.dirname, '../dist');

type Handler = (event: unknown, context: Context) => Promise<any>;

interface Row {
  name: string;
  left: number;
  modifyCalls: number;
  throttled: number;
  seconds: number;
  failedRecords: number;
  dlq?: number;
  maxInvocationSeconds: number;
}

/** A container: a fresh module instance of a built function, initialised with the env of the moment. */
async function container(fn: string, tag: string): Promise<Handler> {
  const url = `${pathToFileURL(join(DIST, fn, 'index.mjs')).href}?container=${tag}`;
  return ((await import(url)) as { handler: Handler }).handler;
}

async function fresh(): Promise<{ sb: Sandbox; env: Record<string, string> }> {
  const sb = await startSandbox({ port: 0, quiet: true, regions: [REGION], throttle: { enabled: false } });
  const cfg = { region: REGION, endpoint: sb.url, credentials };
  const topic = await new SNSClient(cfg).send(new CreateTopicCommand({ Name: 'imds-guard-bench-audit' }));
  await new DynamoDBClient(cfg).send(
    new CreateTableCommand({
      TableName: 'imds-guard-bench-idempotency',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
  const env = {
    ...sb.env(REGION),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    TOPIC_ARN: topic.TopicArn!,
    SELF_ROLE_NAMES: 'imds-guard-bench',
    IDEMPOTENCY_TABLE: 'imds-guard-bench-idempotency',
    // Identity readiness is EKS/IAM traffic, outside the EC2 buckets this benchmark is about.
    IDENTITY_GATE: 'off',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  return { sb, env };
}

/** N non-compliant EKS nodes launched 10 at a time with throttling off, then real buckets, full. */
async function seed(sb: Sandbox, n: number): Promise<any[]> {
  const ec2 = new EC2Client({ region: REGION, endpoint: sb.url, credentials });
  const events: any[] = [];
  for (let k = 0; k * PER_EVENT < n; k++) {
    const count = Math.min(PER_EVENT, n - k * PER_EVENT);
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-0bench000000000001',
        MinCount: count,
        MaxCount: count,
        MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: 'eks:cluster-name', Value: 'storm' },
              { Key: 'eks:nodegroup-name', Value: `ng-${k % 5}` },
              { Key: 'kubernetes.io/cluster/storm', Value: 'owned' },
              { Key: 'owner', Value: `team-${k % 4}` },
            ],
          },
        ],
      }),
    );
    events.push(ct.runInstances(out.Instances!, 'autoscaling', { region: REGION, account: ACCOUNT }));
  }
  // configure() empties the buckets' history: the run starts with full buckets at AWS's rates.
  sb.setThrottle({ enabled: true, timeScale: 1 });
  return events;
}

/** Instances not on tokens=required, hop 1, read back with DescribeInstances (throttling off for the read). */
async function leftNonCompliant(sb: Sandbox): Promise<number> {
  sb.setThrottle({ enabled: false });
  const ec2 = new EC2Client({ region: REGION, endpoint: sb.url, credentials });
  let left = 0;
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeInstancesCommand({ MaxResults: 1000, NextToken }));
    for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? []) as Instance[]) {
      const mo = i.MetadataOptions;
      if (!(mo?.HttpTokens === 'required' && (mo.HttpPutResponseHopLimit ?? 2) <= 1)) left++;
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return left;
}

/** C containers, each taking the next event off the shared list, one at a time. */
async function deliver(handlers: Handler[], events: any[]): Promise<{ results: any[]; maxSeconds: number }> {
  const list = [...events];
  const results: any[] = [];
  let maxSeconds = 0;
  await Promise.all(
    handlers.map(async (h, k) => {
      for (let e = list.shift(); e; e = list.shift()) {
        const t0 = performance.now();
        try {
          results.push(await h(e, fakeContext(`enforce-instances-${k}`, REGION, ACCOUNT, 120_000)));
        } catch (err) {
          results.push({ status: 'threw', error: String(err) });
        }
        maxSeconds = Math.max(maxSeconds, (performance.now() - t0) / 1000);
      }
    }),
  );
  return { results, maxSeconds };
}

const failedIn = (results: any[]) => results.reduce((a, r) => a + (r?.counts?.failed ?? 0), 0);

async function directPath(): Promise<Row> {
  const { sb, env } = await fresh();
  try {
    Object.assign(process.env, env);
    delete process.env.REMEDIATION_QUEUE_URL;
    const handlers = await Promise.all(Array.from({ length: C }, (_, k) => container('enforce-instances', `direct-${k}`)));
    const events = await seed(sb, N);
    const t0 = performance.now();
    const { results, maxSeconds } = await deliver(handlers, events);
    const seconds = (performance.now() - t0) / 1000;
    const st = sb.stats();
    return {
      name: '(a) direct',
      left: await leftNonCompliant(sb),
      modifyCalls: st.calls.ModifyInstanceMetadataOptions ?? 0,
      throttled: st.throttled.ModifyInstanceMetadataOptions ?? 0,
      seconds,
      failedRecords: failedIn(results),
      maxInvocationSeconds: maxSeconds,
    };
  } finally {
    await sb.close();
  }
}

interface Queues {
  url: string;
  dlqUrl: string;
  sqs: SQSClient;
}

async function queues(sb: Sandbox): Promise<Queues> {
  const sqs = new SQSClient({ region: REGION, endpoint: sb.url, credentials });
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'imds-guard-bench-remediation-dlq' }));
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))).Attributes!
    .QueueArn!;
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'imds-guard-bench-remediation',
      Attributes: {
        VisibilityTimeout: '360',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVES }),
      },
    }),
  );
  return { url: q.QueueUrl!, dlqUrl: dlq.QueueUrl!, sqs };
}

/** Whether the built event function enqueues (issue 13's producer); until then the bench enqueues for it. */
function bundleEnqueues(): boolean {
  if (process.env.BENCH_PRODUCER === 'stand-in') return false;
  return readFileSync(join(DIST, 'enforce-instances', 'index.mjs'), 'utf8').includes('imds-guard.remediation/v1');
}

/** The stand-in producer: the event's launched instances as queue items, as enforce-instances will send them. */
function standIn(queue: Queues): Handler {
  return async (event: any) => {
    const d = event.detail;
    const trigger = {
      source: 'cloudtrail' as const,
      eventName: d.eventName,
      eventId: d.eventID,
      eventTime: d.eventTime,
      actor: d.userIdentity?.arn ?? '',
      region: d.awsRegion,
      account: d.recipientAccountId,
    };
    const items = d.responseElements.instancesSet.items.map((i: any) => {
      const tags = Object.fromEntries(i.tagSet.items.map((t: any) => [t.key, t.value]));
      return toQueueItem({
        trigger,
        resource: {
          type: 'instance',
          id: i.instanceId,
          arn: `arn:aws:ec2:${trigger.region}:${trigger.account}:instance/${i.instanceId}`,
          region: trigger.region,
          account: trigger.account,
          cluster: tags['eks:cluster-name'],
          nodegroup: tags['eks:nodegroup-name'],
          owner: tags.owner ?? 'unowned',
        },
        before: { httpTokens: i.metadataOptions.httpTokens, hopLimit: i.metadataOptions.httpPutResponseHopLimit },
        remediation: { httpTokens: 'required', hopLimit: 1 },
        maxHopLimit: 1,
        violations: ['HttpTokens is optional, expected required'],
      });
    });
    await enqueue(queue.sqs, queue.url, items);
    return { status: 'done', queued: items.length };
  };
}

/** The consumer's containers behind one event source: each invocation goes to an idle container. */
async function consumer(q: Queues, sb: Sandbox, tag: string): Promise<SqsEventSource> {
  const containers = await Promise.all(
    Array.from({ length: QUEUE_CONCURRENCY }, (_, k) => container('remediate-instances', `${tag}-consumer-${k}`)),
  );
  const idle = [...containers];
  return startSqsEventSource({
    endpoint: sb.url,
    region: REGION,
    queueUrl: q.url,
    batchSize: 10,
    maximumConcurrency: QUEUE_CONCURRENCY,
    waitSeconds: 2,
    timeoutMs: 60_000,
    functionName: 'remediate-instances',
    handler: async (event, ctx) => {
      const h = idle.shift();
      if (!h) throw new Error('no idle consumer container: more invocations than MaximumConcurrency');
      try {
        return await h(event, ctx);
      } finally {
        idle.push(h);
      }
    },
  });
}

async function producers(q: Queues, tag: string, n: number): Promise<{ handlers: Handler[]; kind: string }> {
  Object.assign(process.env, {
    REMEDIATION_QUEUE_URL: q.url,
    MAX_RECEIVES: String(MAX_RECEIVES),
    QUEUE_CONCURRENCY: String(QUEUE_CONCURRENCY),
  });
  if (!bundleEnqueues())
    return { handlers: Array.from({ length: n }, () => standIn(q)), kind: 'stand-in producer (toQueueItem + enqueue)' };
  const handlers = await Promise.all(Array.from({ length: n }, (_, k) => container('enforce-instances', `${tag}-${k}`)));
  return { handlers, kind: 'built enforce-instances' };
}

async function depth(q: Queues, url: string): Promise<number> {
  const a = (await q.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] })))
    .Attributes;
  return Number(a?.ApproximateNumberOfMessages ?? 0);
}

async function queuedPath(): Promise<Row & { producer: string }> {
  const { sb, env } = await fresh();
  try {
    Object.assign(process.env, env);
    const q = await queues(sb);
    const { handlers, kind } = await producers(q, 'queued', C);
    const src = await consumer(q, sb, 'queued');
    const events = await seed(sb, N);
    const t0 = performance.now();
    const { results, maxSeconds } = await deliver(handlers, events);
    await src.drained({ timeoutMs: 3_600_000, pollMs: 100 });
    const seconds = (performance.now() - t0) / 1000;
    await src.stop();
    const st = sb.stats();
    const failed = sb.messages().flatMap((m) => JSON.parse(m.bodies.default ?? m.message).records ?? []);
    return {
      name: '(b) queued',
      producer: kind,
      left: await leftNonCompliant(sb),
      modifyCalls: st.calls.ModifyInstanceMetadataOptions ?? 0,
      throttled: st.throttled.ModifyInstanceMetadataOptions ?? 0,
      seconds,
      failedRecords: failedIn(results) + failed.filter((r: any) => r.outcome === 'failed').length,
      dlq: await depth(q, q.dlqUrl),
      maxInvocationSeconds: maxSeconds,
    };
  } finally {
    await sb.close();
  }
}

/** One event with 3 nodes: from handing it to the event function to the sandbox receiving the first Modify. */
async function quietPath(): Promise<{ seconds: number; producer: string }> {
  const { sb, env } = await fresh();
  try {
    Object.assign(process.env, env);
    const q = await queues(sb);
    const { handlers, kind } = await producers(q, 'quiet', 1);
    const src = await consumer(q, sb, 'quiet');
    const [event] = await seed(sb, 3);
    await new Promise((r) => setTimeout(r, 500)); // the pollers are waiting on an empty queue, as in a quiet hour
    // The observer: the sandbox counts a call as it arrives; poll that count every millisecond.
    let seen: number | undefined;
    const t0 = performance.now();
    const timer = setInterval(() => {
      if (seen === undefined && (sb.stats().calls.ModifyInstanceMetadataOptions ?? 0) > 0) seen = performance.now();
    }, 1);
    await handlers[0]!(event, fakeContext('enforce-instances', REGION, ACCOUNT, 120_000));
    await src.drained({ timeoutMs: 60_000, pollMs: 5 });
    clearInterval(timer);
    await src.stop();
    if (seen === undefined) throw new Error('quiet path: no ModifyInstanceMetadataOptions reached the sandbox');
    return { seconds: (seen - t0) / 1000, producer: kind };
  } finally {
    await sb.close();
  }
}

function print(rows: Row[]): void {
  const f = (n: number, d = 1) => n.toFixed(d);
  const head = ['path', 'left non-compliant', 'Modify calls/node', 'throttled', 'drain', 'minimum', 'ratio', 'failed records', 'DLQ'];
  const lines = rows.map((r) => [
    r.name,
    String(r.left),
    f(r.modifyCalls / N, 3),
    String(r.throttled),
    `${f(r.seconds)} s`,
    `${f(MIN_SECONDS)} s`,
    `${f(r.seconds / MIN_SECONDS, 3)}x`,
    String(r.failedRecords),
    r.dlq === undefined ? '-' : String(r.dlq),
  ]);
  const target = ['target (b)', String(TARGETS.left), `<= ${TARGETS.callsPerNode}`, '', '', '', `<= ${TARGETS.ratio}x`, '', '0'];
  const all = [head, ...lines, target];
  const w = head.map((_, c) => Math.max(...all.map((l) => l[c]!.length)));
  for (const l of all) console.log(l.map((cell, c) => (c === 0 ? cell.padEnd(w[c]!) : cell.padStart(w[c]!))).join('  '));
}

async function main(): Promise<void> {
  const wall = performance.now();
  console.log('building the function bundles (node scripts/build.mjs)...');
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: join(import.meta.dirname, '..'), stdio: 'ignore' });
  console.log(
    `imds-guard storm benchmark: ${N} non-compliant EKS nodes in ${Math.ceil(N / PER_EVENT)} RunInstances events, ${C} event containers`,
  );
  console.log(
    `sandbox: AWS's EC2 buckets at AWS's rates (ModifyInstanceMetadataOptions: burst ${BURST}, ${REFILL}/s); ` +
      `bucket minimum (N - ${BURST}) / ${REFILL} = ${MIN_SECONDS.toFixed(1)} s`,
  );
  console.log(`queued path: remediate-instances x ${QUEUE_CONCURRENCY} (MaximumConcurrency), batch 10, MAX_RECEIVES ${MAX_RECEIVES}\n`);
  const rows: Row[] = [];
  if (!process.env.BENCH_SKIP_DIRECT) {
    rows.push(await directPath());
    console.log(`(a) done in ${rows[0]!.seconds.toFixed(1)} s (longest invocation ${rows[0]!.maxInvocationSeconds.toFixed(1)} s)`);
  }
  const queued = await queuedPath();
  rows.push(queued);
  console.log(`(b) done in ${queued.seconds.toFixed(1)} s, producer: ${queued.producer}\n`);
  print(rows);
  const quiet = await quietPath();
  console.log(
    `\nquiet path (1 event, 3 nodes, queued): event to first ModifyInstanceMetadataOptions at the sandbox ${(quiet.seconds * 1000).toFixed(0)} ms (target <= ${TARGETS.quietSeconds} s)`,
  );
  const checks = [
    ['0 nodes left', queued.left === TARGETS.left],
    [`<= ${TARGETS.callsPerNode} Modify calls per node`, queued.modifyCalls / N <= TARGETS.callsPerNode],
    [`drain <= ${TARGETS.ratio}x minimum`, queued.seconds / MIN_SECONDS <= TARGETS.ratio],
    [`quiet path <= ${TARGETS.quietSeconds} s`, quiet.seconds <= TARGETS.quietSeconds],
  ] as const;
  console.log(`\ntargets for (b): ${checks.map(([name, ok]) => `${name} ${ok ? 'PASS' : 'FAIL'}`).join('; ')}`);
  console.log(`bench wall time ${((performance.now() - wall) / 1000).toFixed(1)} s`);
  if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(2);
});
