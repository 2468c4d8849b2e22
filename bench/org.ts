// npm run bench:org — the org-wide backfill (one durable execution, here on the durable functions testing SDK)
// against the multi-account sandbox with AWS's EC2 buckets per account and Region.
//
// Seeds 20 member accounts x 3 Regions x 200 non-compliant EKS nodes through the public API (each account through
// its member role, throttling off while seeding), then runs the org backfill over every (account x Region) unit
// with the buckets refilled SCALE times faster. Beside it, on a fresh seed, the same work run account by account
// (one execution per account, one after another: what a per-account deployment or `--profile` loop does), at
// NAIVE_SCALE (it is 20x longer; its times are scaled to AWS seconds like the org run's, so the two compare).
// The sandbox runs in its own worker thread (bench/org-sandbox.ts): the product's client and the emulated AWS do not
// share a thread. Under the table, where each unit's time goes (from the product's limiter, bench/org-timeline.ts).
//
// The org run defaults to AWS's own refill rates (x1): 60 units x 5/s is 300 signed calls/s, about what one Node
// thread of a 2-core machine serves (the profile: the main thread is busy 92% of the time at x1, mostly in the SDK).
// At x2 the client thread, not the limiter, sets the pace (2.7x the minimum, 0 throttled).
//
// Env: BENCH_TIME_SCALE (default 1), BENCH_NAIVE_SCALE (default 8), BENCH_ACCOUNTS (20), BENCH_NODES (200),
// BENCH_SKIP_NAIVE=1, BENCH_DEBUG=1 (calls and throttles by action on stderr).
import { EC2Client, RunInstancesCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { makeBackfillHandler, type BackfillHandlerResult } from '../lib/lambda/backfill.js';
import { resetAccountCredentials } from '../lib/shell/accounts.js';
import { resetClients } from '../lib/shell/clients.js';
import { loadConfig } from '../lib/shell/config.js';
import { breakdown, TimedLimiter } from './org-timeline.js';
import { minSeconds } from '../sandbox/server.js';
import { remoteSandbox, type RemoteSandbox as Sandbox } from './org-sandbox.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDBENCH';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
process.env.AWS_REGION ??= 'us-east-1';

const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 1);
const NAIVE_SCALE = Number(process.env.BENCH_NAIVE_SCALE ?? 8);
const ACCOUNTS = Array.from({ length: Number(process.env.BENCH_ACCOUNTS ?? 20) }, (_, i) => `4000000000${String(i + 10).padStart(2, '0')}`);
const NODES = Number(process.env.BENCH_NODES ?? 200);
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const TARGET = 1.25;

async function seed(sb: Sandbox): Promise<void> {
  await sb.reset();
  resetClients();
  resetAccountCredentials();
  await sb.setThrottle({ enabled: false });
  await Promise.all(
    ACCOUNTS.map(async (account) => {
      const sts = new STSClient({ region: 'us-east-1', endpoint: sb.url });
      const arn = `arn:aws:iam::${account}:role/imds-guard-member`;
      const c = (await sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'bench-seed' }))).Credentials!;
      const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
      for (const region of REGIONS)
        await new EC2Client({ region, endpoint: sb.url, credentials }).send(
          new RunInstancesCommand({
            ImageId: 'ami-0bench000000000001',
            InstanceType: 'm6i.large' as _InstanceType,
            MinCount: NODES,
            MaxCount: NODES,
            MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
            TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: `kubernetes.io/cluster/bench-${account}`, Value: 'owned' }] }],
          }),
        );
    }),
  );
}

interface Row {
  name: string;
  /** AWS seconds: wall time x the time scale it ran at. */
  elapsed: number;
  minimum: number;
  left: number;
  assumeRole: number;
  modifyCalls: number;
  throttled: number;
  failedUnits: number;
  breakdown?: string[];
}

async function execute(topic: string, limiter: TimedLimiter, accounts: string[], concurrency: number): Promise<BackfillHandlerResult> {
  const config = loadConfig({ TOPIC_ARN: topic, IDENTITY_GATE: 'off', PUBLISH_OUTCOMES: 'failed', MODE: 'enforce' });
  const handler = makeBackfillHandler(config, { limiter });
  const runner = new LocalDurableTestRunner({ handlerFunction: withDurableExecution(handler) });
  const ex = await runner.run({ payload: { mode: 'enforce', accounts, regions: REGIONS, concurrency } });
  return ex.getResult() as BackfillHandlerResult;
}

async function measure(sb: Sandbox, name: string, scale: number, runs: string[][], concurrency: number): Promise<Row> {
  await seed(sb);
  const topic = (await new SNSClient({ region: 'us-east-1', endpoint: sb.url }).send(new CreateTopicCommand({ Name: 'audit' }))).TopicArn!;
  await sb.setThrottle({ enabled: true, timeScale: scale });
  const before = await sb.stats();
  const assumed = await sb.assumeRoleCalls();
  const t0 = performance.now();
  let failedUnits = 0;
  let limiter = new TimedLimiter({ timeScale: scale });
  for (const accounts of runs) {
    // One limiter per execution (a fresh container per account in the naive run).
    limiter = new TimedLimiter({ timeScale: scale });
    const r = await execute(topic, limiter, accounts, concurrency);
    failedUnits += 'failed' in r ? r.failed : 0;
  }
  const t1 = performance.now();
  const elapsed = ((t1 - t0) / 1000) * scale;
  const after = await sb.stats();
  if (process.env.BENCH_DEBUG)
    console.error(JSON.stringify({ calls: after.calls, throttled: after.throttled, limiter: limiter.stats().throttled }));
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  // Buckets are per account and Region: at full parallelism the largest unit sets the minimum; run after run, they add up.
  const unitMin = minSeconds('ModifyInstanceMetadataOptions', NODES, {});
  return {
    name,
    elapsed,
    minimum: unitMin * runs.length,
    left: await sb.left(ACCOUNTS, REGIONS),
    assumeRole: (await sb.assumeRoleCalls()) - assumed,
    modifyCalls: (after.calls.ModifyInstanceMetadataOptions ?? 0) - (before.calls.ModifyInstanceMetadataOptions ?? 0),
    throttled: sum(after.throttled) - sum(before.throttled),
    failedUnits,
    // For one execution only: the time line of the last one otherwise.
    ...(runs.length === 1 ? { breakdown: breakdown(limiter, t0, t1, scale, unitMin) } : {}),
  };
}

function table(rows: Row[], best: number): string {
  const head = ['', 'elapsed', 'minimum', 'ratio', 'vs org', 'nodes left', 'AssumeRole', 'Modify calls', 'throttled', 'failed units'];
  const body = rows.map((r) => [
    r.name,
    `${r.elapsed.toFixed(1)} s`,
    `${r.minimum.toFixed(1)} s`,
    `${(r.elapsed / r.minimum).toFixed(2)}x`,
    `${(r.elapsed / best).toFixed(1)}x`,
    String(r.left),
    String(r.assumeRole),
    String(r.modifyCalls),
    String(r.throttled),
    String(r.failedUnits),
  ]);
  const all = [head, ...body];
  const widths = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  return all.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ')).join('\n');
}

async function main(): Promise<void> {
  const units = ACCOUNTS.length * REGIONS.length;
  const sb = await remoteSandbox({ quiet: true, accounts: ACCOUNTS.map((id) => ({ id, roles: ['imds-guard-member'] })) });
  process.env.AWS_ENDPOINT_URL = sb.url;
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
  try {
    console.log(
      `imds-guard org backfill benchmark: ${ACCOUNTS.length} accounts x ${REGIONS.length} Regions x ${NODES} non-compliant nodes`,
    );
    console.log(
      `sandbox: AWS EC2 buckets per account and Region (ModifyInstanceMetadataOptions burst 100, 5/s), refill x${SCALE}` +
        `${SCALE === 1 ? " (AWS's rates)" : ''}, sandbox in its own thread`,
    );
    console.log(
      `minimum at full parallelism (${units} units in flight): the largest unit's (N - 100) / 5 = ${minSeconds('ModifyInstanceMetadataOptions', NODES, {}).toFixed(1)} s`,
    );
    console.log('times are AWS seconds (wall time x the refill scale each run used)\n');
    const org = await measure(sb, `org backfill (${units} units, concurrency ${units})`, SCALE, [ACCOUNTS], units);
    const rows = [org];
    if (!process.env.BENCH_SKIP_NAIVE)
      rows.push(
        await measure(
          sb,
          `account by account (x${NAIVE_SCALE})`,
          NAIVE_SCALE,
          ACCOUNTS.map((a) => [a]),
          REGIONS.length,
        ),
      );
    console.log(table(rows, org.elapsed));
    console.log(`\nwhere the org run's time goes, per unit (AWS seconds):\n${org.breakdown?.join('\n')}`);
    const ratio = org.elapsed / org.minimum;
    const ok = ratio <= TARGET && org.left === 0 && org.assumeRole === ACCOUNTS.length;
    console.log(
      `\ntarget: <= ${TARGET}x the minimum, 0 nodes left, one AssumeRole per account: ${ok ? 'PASS' : 'FAIL'} ` +
        `(${ratio.toFixed(3)}x, ${org.left} left, ${org.assumeRole} AssumeRole for ${ACCOUNTS.length} accounts)`,
    );
    if (!ok) process.exitCode = 1;
  } finally {
    await LocalDurableTestRunner.teardownTestEnvironment();
    await sb.close();
  }
}

await main();
