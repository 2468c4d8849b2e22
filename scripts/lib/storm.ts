// The demo's last section: a scale-up storm through the queued path. 300 non-compliant nodes launch in 30
// RunInstances events; enforce-instances (REMEDIATION_QUEUE_URL set) puts each change on the remediation queue
// and remediate-instances drains it under the SQS event-source driver, two containers, each pacing itself to
// half of EC2's bucket. EC2's buckets and the consumers' pacing run TIME_SCALE times faster so it takes seconds.
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { instanceKind } from '../../lib/kinds/instance/kind.js';
import { eventFunction } from '../../lib/lambda/event-handler.js';
import { bucketShare, makeRemediationHandler } from '../../lib/lambda/remediation.js';
import { loadConfig } from '../../lib/shell/config.js';
import { RateLimiter } from '../../lib/shell/rate-limit.js';
import * as ct from '../../sandbox/cloudtrail.js';
import { startSqsEventSource } from '../../sandbox/event-source.js';
import type { Sandbox } from '../../sandbox/server.js';
import { context } from './local-lambda.js';

/** EC2's refill rates and the consumers' pacing, times this (AWS's burst sizes stay). */
export const TIME_SCALE = 20;
const CONSUMERS = 2;

export interface StormOptions {
  sandbox: Sandbox;
  region: string;
  account: string;
  nodes?: number;
  perEvent?: number;
  /** Where the progress line goes. */
  out?: NodeJS.WriteStream;
}

export interface StormResult {
  nodes: number;
  compliant: number;
  modifyCalls: number;
  seconds: number;
}

async function launch(ec2: EC2Client, o: Required<Omit<StormOptions, 'out'>>): Promise<any[]> {
  const events: any[] = [];
  for (let k = 0; k * o.perEvent < o.nodes; k++) {
    const n = Math.min(o.perEvent, o.nodes - k * o.perEvent);
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-0abcdef1234567890',
        InstanceType: 'm6i.large',
        MinCount: n,
        MaxCount: n,
        MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: 'eks:cluster-name', Value: 'payments' },
              { Key: 'eks:nodegroup-name', Value: 'payments-burst' },
              { Key: 'kubernetes.io/cluster/payments', Value: 'owned' },
              { Key: 'owner', Value: 'payments-oncall@example.com' },
            ],
          },
        ],
      }),
    );
    events.push(ct.runInstances(out.Instances!, 'autoscaling', { region: o.region, account: o.account }));
  }
  return events;
}

const isCompliant = (i: Pick<Instance, 'MetadataOptions'>) =>
  i.MetadataOptions?.HttpTokens === 'required' && (i.MetadataOptions.HttpPutResponseHopLimit ?? 2) <= 1;

/**
 * Run the storm on the demo's sandbox; prints a one-line progress and returns the figures read back.
 *
 * @example
 * const r = await runStorm({ sandbox, region: 'eu-west-1', account: '111122223333' });
 * console.log(`${r.compliant}/${r.nodes} compliant`);
 */
export async function runStorm(opts: StormOptions): Promise<StormResult> {
  const o = { nodes: 300, perEvent: 10, ...opts };
  const cfg = { region: o.region, endpoint: o.sandbox.url };
  const ec2 = new EC2Client(cfg);
  const sqs = new SQSClient(cfg);
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'imds-guard-demo-remediation' }))).QueueUrl!;
  o.sandbox.setThrottle({ enabled: false });
  const tl = performance.now();
  const events = await launch(ec2, o);
  const ids = events.flatMap((e) => e.detail.responseElements.instancesSet.items.map((i: { instanceId: string }) => i.instanceId));
  // From here on EC2's real buckets (burst 100), refilled TIME_SCALE times faster; full at the start.
  o.sandbox.setThrottle({ enabled: true, timeScale: TIME_SCALE });
  const env = { REMEDIATION_QUEUE_URL: queueUrl, QUEUE_CONCURRENCY: String(CONSUMERS), IDENTITY_GATE: 'off' };
  const config = loadConfig({ ...process.env, ...env });
  const consumers = Array.from({ length: CONSUMERS }, () =>
    makeRemediationHandler(config, new RateLimiter({ timeScale: TIME_SCALE, buckets: bucketShare(CONSUMERS) })),
  );
  // The event function as a container with the queue configured (the demo's earlier one has none).
  const enforce = eventFunction(instanceKind, config);
  const idle = [...consumers];
  const src = startSqsEventSource({
    ...cfg,
    queueUrl,
    maximumConcurrency: CONSUMERS,
    batchSize: 10,
    waitSeconds: 1,
    handler: async (event, context) => {
      const h = idle.shift()!;
      try {
        return await h(event, context);
      } finally {
        idle.push(h);
      }
    },
  });
  const modify0 = o.sandbox.stats().calls.ModifyInstanceMetadataOptions ?? 0;
  const instances = o.sandbox.state.region(o.region).instances;
  const progress = async () => {
    const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    const done = ids.filter((id) => isCompliant({ MetadataOptions: instances.get(id)?.metadata as Instance['MetadataOptions'] })).length;
    const line = `  storm: ${a.Attributes?.ApproximateNumberOfMessages ?? '?'} in queue, ${done}/${ids.length} remediated`;
    if (o.out?.isTTY) o.out.write(`\r${line.padEnd(60)}`);
    return line;
  };
  const t0 = performance.now();
  console.log(`  launched ${ids.length} nodes in ${events.length} events (${((t0 - tl) / 1000).toFixed(1)} s)`);
  const timer = setInterval(() => void progress().catch(() => undefined), 200);
  try {
    // One container, one event at a time, as Lambda runs a container (the consumers drain meanwhile).
    for (const e of events) await enforce(e, context('enforce-instances'));
    await src.drained({ timeoutMs: 120_000, pollMs: 50 });
  } finally {
    clearInterval(timer);
    await src.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  const last = await progress();
  if (o.out?.isTTY) o.out.write('\n');
  else console.log(last);
  const read = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const compliant = (read.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter(isCompliant).length;
  return {
    nodes: ids.length,
    compliant,
    modifyCalls: (o.sandbox.stats().calls.ModifyInstanceMetadataOptions ?? 0) - modify0,
    seconds,
  };
}
