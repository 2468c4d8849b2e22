// Issue 7: EventBridge (and CloudTrail) deliver at least once. The real handlers with Powertools Idempotency
// on the sandbox's DynamoDB: a redelivered event neither remediates nor notifies twice.
import type { Instance } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, vi } from 'vitest';
import * as ct from '../../sandbox/cloudtrail.js';
import { seedDemo, type DemoInfo } from '../../sandbox/scenarios/demo.js';
import { lambdaContext, loadFunction } from '../helpers/lambda.js';
import { callCounter, lambdaFor, sandboxIt, startTarget, type Target, createIdempotencyTable } from '../helpers/sandbox.js';
import { launchInstances } from '../helpers/launch.js';

const TABLE = 'imds-guard-e2e-idempotency';
const DAY = 24 * 60 * 60;
let t: Target;
let demo: DemoInfo;
let w: ct.Where;

beforeAll(async () => {
  if (process.env.IMDS_GUARD_E2E_ENDPOINT) return;
  t = await startTarget();
  demo = await seedDemo({ endpoint: t.endpoint, region: t.region });
  w = { region: t.region, account: demo.accountId };
  await createIdempotencyTable(t.endpoint, t.region, TABLE);
}, 60_000);
afterAll(() => t?.close());
afterEach(() => {
  vi.unstubAllEnvs();
  t?.sandbox?.setFaults({});
});

// Owners come from the instances' own tags here (the routing rule has its own tests): one message per owner.
const env = (extra: Record<string, string> = {}) => ({
  IDEMPOTENCY_TABLE: TABLE,
  IDENTITY_GATE: 'off',
  OWNER_SOURCE: 'instance-first',
  ...extra,
});

/** Six non-compliant EKS nodes of three owners, in one RunInstances event. */
async function launchEvent(): Promise<{ event: any; instances: Instance[] }> {
  const instances: Instance[] = [];
  for (const owner of ['team-a', 'team-b', 'team-c']) {
    instances.push(
      ...(await launchInstances(t.ec2, 2, 'optional', 2, { 'eks:cluster-name': 'payments', 'eks:nodegroup-name': 'ng', owner })),
    );
  }
  return { event: ct.runInstances(instances, 'autoscaling', w), instances };
}

/** The same CloudTrail event again, as EventBridge redelivers it (CloudTrail duplicates get a new envelope id). */
const redelivery = (event: any) => ({ ...structuredClone(event), id: `evb-${crypto.randomUUID()}` });

const ownersMessaged = (event: any) =>
  t
    .sandbox!.messages()
    .filter((m) => JSON.parse(m.bodies.default!).trigger.eventId === event.detail.eventID)
    .map((m) => m.attributes.owner)
    .sort();
const modifyCounts = (instances: Instance[]) =>
  instances.map((i) => t.sandbox!.state.region(t.region).instances.get(i.InstanceId!)!.modifyCount);

describe('duplicate deliveries', () => {
  sandboxIt('delivered twice: one Modify per instance, one message per owner; the duplicate gets the stored result', async () => {
    const run = await lambdaFor(t, 'enforce-instances', env());
    const { event, instances } = await launchEvent();
    const first = await run(event);
    expect(first).toMatchObject({ status: 'done', counts: { remediated: 6 } });
    expect(first.duplicate).toBeUndefined();
    const calls = callCounter(t);
    const second = await run(redelivery(event));
    expect(second).toEqual({ ...first, duplicate: true });
    // A conditional PutItem that fails with the stored item (ALL_OLD): nothing else, not even a GetItem.
    expect(calls.since()).toEqual({ PutItem: 1 });
    expect(ownersMessaged(event)).toEqual(['team-a', 'team-b', 'team-c']);
    expect(modifyCounts(instances)).toEqual([1, 1, 1, 1, 1, 1]);
    const record = t
      .sandbox!.dynamodb.items(TABLE)
      .find((i) => i.status?.S === 'COMPLETED' && JSON.stringify(i.data).includes(instances[0]!.InstanceId!))!;
    expect(Number(record.expiration!.N) - Date.now() / 1000).toBeGreaterThan(DAY - 60);
  });

  sandboxIt(
    'delivered concurrently: one run; the other is refused while it is in progress and gets the stored result on retry',
    async () => {
      const run = await lambdaFor(t, 'enforce-instances', env());
      const { event, instances } = await launchEvent();
      const settled = await Promise.allSettled([run(event), run(redelivery(event)), run(redelivery(event))]);
      const done = settled.filter((s) => s.status === 'fulfilled');
      const refused = settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason.name);
      expect(done).toHaveLength(1);
      expect(refused).toEqual(['IdempotencyAlreadyInProgressError', 'IdempotencyAlreadyInProgressError']);
      // Lambda retries a failed async invocation: by then the first run is complete.
      const retried = await run(redelivery(event));
      expect(retried).toEqual({ ...(done[0] as PromiseFulfilledResult<any>).value, duplicate: true });
      expect(ownersMessaged(event)).toEqual(['team-a', 'team-b', 'team-c']);
      expect(modifyCounts(instances)).toEqual([1, 1, 1, 1, 1, 1]);
    },
  );

  sandboxIt('a failed run stays retryable: its record is deleted and the retry runs in full', async () => {
    const run = await lambdaFor(t, 'enforce-instances', env({ MAX_ATTEMPTS: '2' }));
    const { event, instances } = await launchEvent();
    const before = t.sandbox!.dynamodb.items(TABLE).length;
    t.sandbox!.setFaults({ errors: { Publish: { rate: 1, kind: '5xx' } } });
    await expect(run(event)).rejects.toThrow();
    expect(t.sandbox!.dynamodb.items(TABLE)).toHaveLength(before);
    t.sandbox!.setFaults({});
    const retried = await run(redelivery(event));
    expect(retried).toMatchObject({ status: 'done', counts: { remediated: 6 } });
    expect(retried.duplicate).toBeUndefined();
    expect(ownersMessaged(event)).toEqual(['team-a', 'team-b', 'team-c']);
    // The retry fixes again what the failed run had fixed: tightening twice is harmless.
    expect(modifyCounts(instances)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  sandboxIt('saving the result fails: the event is held while the invocation could still be running, then runs again', async () => {
    // In-progress records expire with the invocation's remaining time (120 s in the stack; 1.5 s here).
    const { handler } = await loadFunction<{ handler: (e: unknown, c: unknown) => Promise<any> }>('../../functions/enforce-instances.js', {
      AWS_ENDPOINT_URL: t.endpoint,
      TOPIC_ARN: t.topicArn,
      SELF_ROLE_NAMES: 'imds-guard-e2e',
      ...env({ MAX_ATTEMPTS: '2' }),
    });
    const run = (e: unknown) => handler(e, { ...lambdaContext('enforce-instances'), getRemainingTimeInMillis: () => 1_500 });
    const { event, instances } = await launchEvent();
    t.sandbox!.setFaults({ errors: { UpdateItem: { rate: 1, kind: '5xx' } } });
    await expect(run(event)).rejects.toMatchObject({ name: 'IdempotencyPersistenceLayerError' });
    t.sandbox!.setFaults({});
    await expect(run(redelivery(event))).rejects.toMatchObject({ name: 'IdempotencyAlreadyInProgressError' });
    await new Promise((r) => setTimeout(r, 1_600));
    expect(await run(redelivery(event))).toMatchObject({ status: 'done', counts: { remediated: 6 } });
    // At least once: the owners hear twice, the nodes are tightened twice.
    expect(ownersMessaged(event)).toEqual(['team-a', 'team-a', 'team-b', 'team-b', 'team-c', 'team-c']);
    expect(modifyCounts(instances)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  sandboxIt.each([
    [
      'enforce-launch-templates',
      () =>
        ct.createLaunchTemplate(demo.nodegroups.analyticsCustom.launchTemplateId, demo.nodegroups.analyticsCustom.launchTemplateName, w),
    ],
    [
      'enforce-nodegroups',
      () => ct.createNodegroup('analytics', 'analytics-custom', w, { id: demo.nodegroups.analyticsCustom.launchTemplateId, version: '1' }),
    ],
  ])('%s: a redelivered event makes no call but the idempotency check', async (fn, make) => {
    const run = await lambdaFor(t, fn, env());
    const event = make();
    const first = await run(event);
    expect(first.status).toBe('done');
    const calls = callCounter(t);
    expect(await run(redelivery(event))).toEqual({ ...first, duplicate: true });
    expect(calls.since()).toEqual({ PutItem: 1 });
  });

  sandboxIt('an event that is ignored never reaches the table', async () => {
    const run = await lambdaFor(t, 'enforce-instances', env());
    const failedCall = { ...ct.modifyMetadataOptions(demo.bastionInstanceId, w), id: 'evb-failed' };
    failedCall.detail.errorCode = 'Client.UnauthorizedOperation';
    const calls = callCounter(t);
    expect(await run(failedCall)).toMatchObject({ status: 'ignored', reason: 'failed-call' });
    expect(calls.since()).toEqual({});
  });
});
