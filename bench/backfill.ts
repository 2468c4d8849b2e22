// npm run bench:backfill — the backfill enforce path against the sandbox's EC2 token buckets.
//
// Seeds 5,000 non-compliant EKS nodes over 3 Regions through the public API (throttling off while
// seeding), then runs `imds-guard enforce --yes` in-process (the CLI's own run()) with AWS's
// buckets refilled TIME_SCALE times faster, and compares with the theoretical minimum the buckets
// allow. Beside it, on a fresh seed, a naive sequential loop with the SDK's default retry.
//
// Env: BENCH_TIME_SCALE (default 20), BENCH_INSTANCES (default 5000), BENCH_SKIP_NAIVE=1.
import {
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceMetadataOptionsCommand,
  RunInstancesCommand,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { run, type CliIo } from '../cli/main.js';
import { EKS_NODE_TAG_KEYS, LIVE_STATES } from '../lib/kinds/instance/scan.js';
import { minSeconds, startSandbox, type Sandbox } from '../sandbox/server.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 20);
const TOTAL = Number(process.env.BENCH_INSTANCES ?? 5000);
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const TARGET_RATIO = 1.15;
const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' };

const perRegion = Object.fromEntries(REGIONS.map((r, i) => [r, Math.floor(TOTAL / REGIONS.length) + (i < TOTAL % REGIONS.length ? 1 : 0)]));

/** The three non-compliant shapes, including the two a one-setting-at-a-time tool misses. */
const VARIANTS = [
  { HttpTokens: 'optional' as const, HttpPutResponseHopLimit: 2 },
  { HttpTokens: 'optional' as const, HttpPutResponseHopLimit: 1 },
  { HttpTokens: 'required' as const, HttpPutResponseHopLimit: 2 },
];

async function seed(sb: Sandbox): Promise<void> {
  sb.setThrottle({ enabled: false });
  await Promise.all(
    REGIONS.map(async (region) => {
      const ec2 = new EC2Client({ region, endpoint: sb.url, credentials });
      let left = perRegion[region]!;
      for (let v = 0; left > 0; v++) {
        const n = Math.min(1000, Math.ceil(perRegion[region]! / VARIANTS.length), left);
        await ec2.send(
          new RunInstancesCommand({
            ImageId: 'ami-0bench000000000001',
            InstanceType: 'm6i.large' as _InstanceType,
            MinCount: n,
            MaxCount: n,
            MetadataOptions: VARIANTS[v % VARIANTS.length],
            TagSpecifications: [
              {
                ResourceType: 'instance',
                Tags: [
                  { Key: `kubernetes.io/cluster/bench-${region}`, Value: 'owned' },
                  { Key: 'owner', Value: `team-${v % 4}` },
                ],
              },
            ],
          }),
        );
        left -= n;
      }
    }),
  );
  // configure() also empties the buckets' history: every Region starts with full buckets.
  sb.setThrottle({ enabled: true, timeScale: SCALE });
}

function sum(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}

function theoreticalMinimum(): { seconds: number; modify: number; describe: number } {
  const opts = { timeScale: SCALE };
  let modify = 0;
  let describe = 0;
  for (const r of REGIONS) {
    modify = Math.max(modify, minSeconds('ModifyInstanceMetadataOptions', perRegion[r]!, opts));
    // One inventory page per 1,000 instances: well inside the Describe burst.
    describe = Math.max(describe, minSeconds('DescribeInstances', Math.ceil(perRegion[r]! / 1000), opts, { MaxResults: 1000 }));
  }
  return { seconds: modify + describe, modify, describe };
}

interface Row {
  name: string;
  /** Seconds from the start to the first successful Modify (STS, inventory, plan). */
  firstModify?: number;
  elapsed: number;
  modified: number;
  failures: number;
  throttled: number;
  modifyCalls: number;
}

function captureIo(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    interactive: false,
    env: { ...process.env, IDENTITY_GATE: 'warn' },
    out: () => out,
    err: () => err,
  };
}

async function imdsGuard(sb: Sandbox): Promise<Row> {
  const before = sb.stats();
  const io = captureIo();
  const wall0 = Date.now();
  const t0 = performance.now();
  const code = await run(
    ['enforce', '--yes', '--regions', REGIONS.join(','), '--endpoint-url', sb.url, '--output', 'json', '--rate-scale', String(SCALE)],
    io,
  );
  const elapsed = (performance.now() - t0) / 1000;
  if (code === 2) throw new Error(`imds-guard enforce failed: ${io.err()}`);
  const result = JSON.parse(io.out()) as {
    counts: Record<string, number>;
    records: { resource: { type: string }; outcome: string; time: string }[];
  };
  const after = sb.stats();
  const instanceRecords = result.records.filter((r) => r.resource.type === 'instance');
  // A record's time is taken when its Modify returned: the first one is the end of the startup.
  const firstDone = Math.min(...instanceRecords.filter((r) => r.outcome === 'remediated').map((r) => Date.parse(r.time)));
  return {
    name: 'imds-guard enforce',
    elapsed,
    firstModify: (firstDone - wall0) / 1000,
    modified: instanceRecords.filter((r) => r.outcome === 'remediated').length,
    failures: instanceRecords.filter((r) => r.outcome === 'failed').length,
    throttled: sum(after.throttled) - sum(before.throttled),
    modifyCalls: (after.calls.ModifyInstanceMetadataOptions ?? 0) - (before.calls.ModifyInstanceMetadataOptions ?? 0),
  };
}

/** What a first script looks like: one Region after the other, one call after the other, default retry. */
async function naive(sb: Sandbox): Promise<Row> {
  const before = sb.stats();
  let modified = 0;
  let failures = 0;
  const t0 = performance.now();
  for (const region of REGIONS) {
    const ec2 = new EC2Client({ region, endpoint: sb.url, credentials }); // retryMode standard, 3 attempts
    let NextToken: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'instance-state-name', Values: LIVE_STATES },
            { Name: 'tag-key', Values: EKS_NODE_TAG_KEYS },
          ],
          MaxResults: 1000,
          NextToken,
        }),
      );
      for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        const mo = i.MetadataOptions;
        if (mo?.HttpTokens === 'required' && (mo.HttpPutResponseHopLimit ?? 2) <= 1) continue;
        try {
          await ec2.send(
            new ModifyInstanceMetadataOptionsCommand({ InstanceId: i.InstanceId, HttpTokens: 'required', HttpPutResponseHopLimit: 1 }),
          );
          modified++;
        } catch {
          failures++;
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const after = sb.stats();
  return {
    name: 'naive sequential loop',
    elapsed,
    modified,
    failures,
    throttled: sum(after.throttled) - sum(before.throttled),
    modifyCalls: (after.calls.ModifyInstanceMetadataOptions ?? 0) - (before.calls.ModifyInstanceMetadataOptions ?? 0),
  };
}

function print(rows: Row[], min: number): void {
  const f = (n: number, d = 1) => n.toFixed(d);
  const header = ['', 'elapsed', 'minimum', 'ratio', 'modified', 'failures', 'throttled', 'Modify calls'];
  const lines = rows.map((r) => [
    r.name,
    `${f(r.elapsed)} s`,
    `${f(min)} s`,
    `${f(r.elapsed / min, 2)}x`,
    String(r.modified),
    String(r.failures),
    String(r.throttled),
    String(r.modifyCalls),
  ]);
  const all = [header, ...lines];
  const w = header.map((_, c) => Math.max(...all.map((l) => l[c]!.length)));
  for (const l of all) console.log(l.map((cell, c) => (c === 0 ? cell.padEnd(w[c]!) : cell.padStart(w[c]!))).join('   '));
}

async function main(): Promise<void> {
  const total0 = performance.now();
  const sb = await startSandbox({ port: 0, quiet: true, regions: REGIONS, throttle: { enabled: true, timeScale: SCALE } });
  // The CLI's clients find the sandbox through AWS_ENDPOINT_URL (set by --endpoint-url) and these keys.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: 'eu-west-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  try {
    const min = theoreticalMinimum();
    console.log(
      `imds-guard backfill benchmark: ${TOTAL} non-compliant EKS nodes over ${REGIONS.length} Regions (${REGIONS.map((r) => `${r} ${perRegion[r]}`).join(', ')})`,
    );
    console.log(
      `sandbox: AWS EC2 token buckets with refill x${SCALE} (ModifyInstanceMetadataOptions: burst 100, ${5 * SCALE}/s per Region; Describe: burst 100, ${20 * SCALE}/s)`,
    );
    console.log(
      `theoretical minimum: max over Regions of (N - 100) / ${5 * SCALE} = ${min.modify.toFixed(2)} s, + Describe ${min.describe.toFixed(2)} s (inventory pages fit in the burst)\n`,
    );

    await seed(sb);
    const ours = await imdsGuard(sb);

    const rows = [ours];
    if (!process.env.BENCH_SKIP_NAIVE) {
      sb.reset(); // fresh state, fresh stats, start-up throttle options
      await seed(sb);
      rows.push(await naive(sb));
    }
    print(rows, min.seconds);
    if (ours.firstModify !== undefined) {
      console.log(
        `\nimds-guard: first Modify returned after ${ours.firstModify.toFixed(2)} s (caller identity, the early first page of ${TOTAL} instances, its plan); the Modify phase took ${(ours.elapsed - ours.firstModify).toFixed(2)} s against the ${min.modify.toFixed(2)} s the buckets allow`,
      );
    }
    const ratio = ours.elapsed / min.seconds;
    const pass = ratio <= TARGET_RATIO && ours.failures === 0 && ours.modified === TOTAL;
    console.log(
      `\ntarget: imds-guard <= ${TARGET_RATIO}x the minimum with zero failures: ${pass ? 'PASS' : 'FAIL'} (${ratio.toFixed(3)}x, ${ours.failures} failures, ${ours.modified}/${TOTAL} modified)`,
    );
    console.log(`bench wall time ${((performance.now() - total0) / 1000).toFixed(1)} s`);
    if (!pass) process.exitCode = 1;
  } finally {
    await sb.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(2);
});
