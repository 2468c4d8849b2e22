// The reconciliation sweep end to end on the sandbox: 40 non-compliant EKS nodes whose events never arrived,
// launched long before the sweep, are found by one sweep fired from its schedule, queued, drained by the
// consumer, and read back compliant; the summary reports them as missed by events, and the queue carries
// the last-sweep tag that `imds-guard doctor` reads.
import { EC2Client } from '@aws-sdk/client-ec2';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, ListQueueTagsCommand, SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeBackfillHandler } from '../../lib/lambda/backfill.js';
import { makeRemediationHandler } from '../../lib/lambda/remediation.js';
import { resetClients } from '../../lib/shell/clients.js';
import { loadConfig } from '../../lib/shell/config.js';
import { RateLimiter } from '../../lib/shell/rate-limit.js';
import { fireSchedule, startSqsEventSource } from '../../sandbox/event-source.js';
import type { Sandbox } from '../../sandbox/server.js';
import { launchInstances } from '../helpers/launch.js';
import { startTestSandbox } from '../helpers/sandbox.js';

const REGION = 'eu-west-1';
const FN = 'arn:aws:lambda:eu-west-1:111122223333:function:imds-guard-prod-backfill:live';
let sb: Sandbox;
let cfg: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };

beforeAll(async () => {
  sb = await startTestSandbox();
  cfg = { endpoint: sb.url, region: REGION, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
  vi.stubEnv('AWS_ENDPOINT_URL', sb.url);
  vi.stubEnv('AWS_REGION', REGION);
  resetClients();
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await LocalDurableTestRunner.teardownTestEnvironment();
  return sb.close();
});

/** The backfill as Lambda runs it: a durable execution, here on the durable functions testing SDK. */
function durable(handler: ReturnType<typeof makeBackfillHandler>) {
  const runner = new LocalDurableTestRunner({ handlerFunction: withDurableExecution(handler) });
  return async (event: unknown) => (await runner.run({ payload: event as object })).getResult();
}

describe('the sweep', () => {
  it('fixes 40 nodes whose events were lost, reports them as missed by events, and stamps the queue', async () => {
    const ec2 = new EC2Client(cfg);
    const sqs = new SQSClient(cfg);
    const topic = (await new SNSClient(cfg).send(new CreateTopicCommand({ Name: 'imds-guard-audit' }))).TopicArn!;
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'imds-guard-prod-remediation' }))).QueueUrl!;
    const tags = { 'eks:cluster-name': 'payments', 'eks:nodegroup-name': 'ng', owner: 'payments' };
    const ids = (await launchInstances(ec2, 40, 'optional', 2, tags)).map((i) => i.InstanceId!);
    // No event is delivered for them, and they launched half an hour before the sweep.
    for (const id of ids) sb.state.region(REGION).instances.get(id)!.launchTime = new Date(Date.now() - 30 * 60_000);

    const env = { TOPIC_ARN: topic, REMEDIATION_QUEUE_URL: queueUrl, IDENTITY_GATE: 'off', PUBLISH_OUTCOMES: 'remediated,failed' };
    const config = loadConfig(env);
    const backfill = durable(makeBackfillHandler(config, { sts: new STSClient(cfg), limiter: new RateLimiter({ enabled: false }) }));

    const scheduler = new SchedulerClient(cfg);
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'imds-guard-prod-sweep',
        ScheduleExpression: 'rate(6 hours)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: FN,
          RoleArn: 'arn:aws:iam::111122223333:role/sweep',
          Input: JSON.stringify({ mode: 'enforce', sweep: true, regions: [REGION] }),
        },
      }),
    );
    const done = await fireSchedule({ endpoint: sb.url, region: REGION, name: 'imds-guard-prod-sweep', handler: backfill });
    expect(done).toMatchObject({ status: 'done', units: 1, succeeded: 1, counts: { 'would-remediate': 40 } });
    // The sweep itself changed nothing: every change went onto the queue.
    expect(sb.stats().calls.ModifyInstanceMetadataOptions ?? 0).toBe(0);

    const consumer = startSqsEventSource({ endpoint: sb.url, region: REGION, queueUrl, handler: makeRemediationHandler(config) });
    try {
      await consumer.drained({ timeoutMs: 60_000 });
    } finally {
      await consumer.stop();
    }
    for (const id of ids)
      expect(sb.state.region(REGION).instances.get(id)!.metadata).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });

    const summaries = sb.messages().filter((m) => m.attributes.kind === 'summary');
    expect(summaries).toHaveLength(1);
    const summary = JSON.parse(summaries[0]!.bodies.default!);
    expect(summary).toMatchObject({ eventName: 'Sweep', regions: [{ region: REGION, queued: 40, missedByEvents: 40, inFlight: 0 }] });
    expect(summaries[0]!.bodies.email).toContain('40 nodes were non-compliant and missed by events; queued for remediation');

    const stamped = (await sqs.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }))).Tags?.['imds-guard:last-sweep'];
    expect(Date.parse(stamped ?? '')).toBeGreaterThan(Date.now() - 60_000);
  }, 120_000);
});
