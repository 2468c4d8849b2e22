// Issue 13 end to end on the sandbox: events for 30 nodes through the unchanged enforce-instances (its changes go
// onto a sandbox queue) and the remediate-instances consumer driven like Lambda's SQS event source.
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe as group, expect, vi } from 'vitest';
import * as ct from '../../sandbox/cloudtrail.js';
import { startSqsEventSource } from '../../sandbox/event-source.js';
import { launchInstances } from '../helpers/launch.js';
import { callCounter, describe, lambdaFor, options, sandboxIt, startTarget, type Target } from '../helpers/sandbox.js';

let t: Target;
beforeAll(async () => {
  t = await startTarget();
}, 60_000);
afterAll(() => t.close());
afterEach(() => vi.unstubAllEnvs());

group('the queued path on the sandbox', () => {
  sandboxIt('30 nodes: events enqueue, the consumer drains; each ends tokens=required hop=1 with one Modify, owners told', async () => {
    const cfg = { endpoint: t.endpoint, region: t.region };
    const sqs = new SQSClient(cfg);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'imds-guard-e2e-remediation' }));
    const account = (await new STSClient(cfg).send(new GetCallerIdentityCommand({}))).Account!;
    const w = { region: t.region, account };
    const owners = ['payments', 'search', 'ml'];
    const batches = await Promise.all(
      owners.map((owner) =>
        launchInstances(t.ec2, 10, 'optional', 2, { 'eks:cluster-name': 'prod', 'eks:nodegroup-name': `ng-${owner}`, owner }),
      ),
    );
    const ids = batches.flat().map((i) => i.InstanceId!);
    const calls = callCounter(t);
    const env = { IDENTITY_GATE: 'off', REMEDIATION_QUEUE_URL: QueueUrl! };
    const enforce = await lambdaFor(t, 'enforce-instances', env);
    const results = [];
    for (const b of batches) results.push(await enforce(ct.runInstances(b, 'autoscaling', w)));
    expect(results.map((r) => r.queued)).toEqual([10, 10, 10]);
    expect(calls.since().ModifyInstanceMetadataOptions ?? 0).toBe(0);
    expect(t.sandbox!.messages()).toHaveLength(0);

    const consumer = await lambdaFor(t, 'remediate-instances', env);
    const src = startSqsEventSource({
      ...cfg,
      queueUrl: QueueUrl!,
      handler: (event) => consumer(event),
      batchSize: 10,
      maximumConcurrency: 2,
    });
    try {
      await src.drained({ timeoutMs: 30_000 });
    } finally {
      await src.stop();
    }

    // Exactly one Modify per node, and the consumer describes nothing.
    const used = calls.since();
    expect(used.ModifyInstanceMetadataOptions).toBe(30);
    expect(used.DescribeInstances ?? 0).toBe(0);
    const after = await describe(t, ids);
    for (const id of ids) expect(options(after.get(id)), id).toEqual(['required', 1]);
    expect(src.stats()).toMatchObject({ failures: 0, errors: 0, deleted: 30 });
    // One message per trigger and owner: each owner hears about its 10 nodes.
    const msgs = t.sandbox!.messages();
    expect(msgs.map((m) => m.attributes.owner).sort()).toEqual([...owners].sort());
    for (const m of msgs) expect(m.attributes.outcome).toBe('remediated');
  });
});
