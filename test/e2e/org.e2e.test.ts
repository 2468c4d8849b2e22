// Issue 14 end to end on the sandbox: one hub deployment (DEPLOYMENT=hub) remediates nodes in the member account
// each event names, through the member role it assumes there (once per account); a member without the role ends in
// one `failed` record and touches nobody else; forwarded events with a forged or foreign account are rejected
// before any AssumeRole.
import { EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe as group, expect, vi } from 'vitest';
import * as ct from '../../sandbox/cloudtrail.js';
import { startSqsEventSource } from '../../sandbox/event-source.js';
import type { Sandbox } from '../../sandbox/server.js';
import { launchInstances } from '../helpers/launch.js';
import { lambdaFor, sandboxIt, startTarget, type Target } from '../helpers/sandbox.js';

const HUB = '111122223333';
const A = '444455556666';
const B = '777788889999';
const NO_ROLE = '222233334444';
const OUTSIDE = '999900001111';
const ROLE = 'imds-guard-member';
const HUB_ENV = { DEPLOYMENT: 'hub', ORGANIZATION_ID: 'o-sandbox0001', MEMBER_ROLE_NAME: ROLE, IDENTITY_GATE: 'off' };

let t: Target;
let sb: Sandbox;
/** AssumeRole calls before this test. */
let start = 0;
beforeAll(async () => {
  t = await startTarget({
    accounts: [
      { id: A, name: 'alpha', roles: [ROLE] },
      { id: B, name: 'beta', roles: [ROLE] },
      { id: NO_ROLE, name: 'gamma' },
      { id: OUTSIDE, inOrganization: false, roles: [ROLE] },
    ],
  });
  sb = t.sandbox!;
}, 60_000);
afterAll(() => t.close());
beforeEach(() => {
  // Keep the topic (it lives in the hub's state); forget the calls and any node from an earlier test.
  for (const id of [A, B, NO_ROLE, OUTSIDE]) for (const rs of sb.account(id).regions()) rs.instances.clear();
  start = sb.assumeRoleCalls().length;
});
afterEach(() => vi.unstubAllEnvs());

const ec2In = (account: string) =>
  new EC2Client({ endpoint: t.endpoint, region: t.region, credentials: { accessKeyId: `AKID${account}`, secretAccessKey: 's' } });
const nodes = (account: string, n: number, owner: string) =>
  launchInstances(ec2In(account), n, 'optional', 2, { 'eks:cluster-name': 'prod', 'eks:nodegroup-name': `ng-${owner}`, owner });
const where = (account: string) => ({ region: t.region, account });
const optionsIn = (account: string, ids: (string | undefined)[]) =>
  ids.map((id) => {
    const m = sb.account(account).region(t.region).instances.get(id!)?.metadata;
    return [m?.HttpTokens, m?.HttpPutResponseHopLimit];
  });
/** AssumeRole calls since the test began, per target account and outcome. */
const calls = () => sb.assumeRoleCalls().slice(start);
const assumed = () => calls().map((c) => `${c.account}:${c.outcome}`);
const newCalls = (from: number) => sb.assumeRoleCalls().slice(from);
const idsOf = (xs: Instance[]) => xs.map((i) => i.InstanceId);

group('a hub acting in its members', () => {
  sandboxIt('remediates two members in their own accounts, one AssumeRole each; a member without the role fails alone', async () => {
    const [a, b, c] = [await nodes(A, 2, 'payments'), await nodes(B, 2, 'search'), await nodes(NO_ROLE, 1, 'ml')];
    const enforce = await lambdaFor(t, 'enforce-instances', HUB_ENV);
    const before = sb.messages().length;
    const ra = await enforce(ct.runInstances(a, 'autoscaling', where(A)));
    const rb = await enforce(ct.runInstances(b, 'autoscaling', where(B)));
    const rc = await enforce(ct.runInstances(c, 'autoscaling', where(NO_ROLE)));
    // A second event from A reuses its credentials.
    const more = await nodes(A, 1, 'payments');
    await enforce(ct.runInstances(more, 'autoscaling', where(A)));

    expect(ra.counts).toEqual({ remediated: 2 });
    expect(rb.counts).toEqual({ remediated: 2 });
    expect(optionsIn(A, [...idsOf(a), ...idsOf(more)])).toEqual([
      ['required', 1],
      ['required', 1],
      ['required', 1],
    ]);
    expect(optionsIn(B, idsOf(b))).toEqual([
      ['required', 1],
      ['required', 1],
    ]);
    // The member without the role: one failed record, its node untouched.
    expect(rc.counts).toEqual({ failed: 1 });
    expect(rc.decisions).toHaveLength(1);
    expect(optionsIn(NO_ROLE, idsOf(c))).toEqual([['optional', 2]]);
    expect(assumed().sort()).toEqual([`${A}:ok`, `${B}:ok`, `${NO_ROLE}:AccessDenied`].sort());
    for (const call of calls()) {
      expect(call.callerAccount).toBe(HUB);
      expect(call.roleArn).toBe(`arn:aws:iam::${call.account}:role/${ROLE}`);
      expect(call.sessionName).toMatch(/^imds-guard-[\w+=,.@-]{1,53}$/);
    }
    // Owners' messages and records name the member account; the failure names the account and the role.
    const msgs = sb.messages().slice(before);
    const body = (owner: string) => msgs.find((m) => m.attributes.owner === owner)?.bodies.default ?? '';
    expect(body('payments')).toContain(A);
    expect(body('search')).toContain(B);
    const failed = msgs.find((m) => m.attributes.outcome === 'failed');
    expect(failed?.attributes.owner).toBe('ml');
    expect(failed?.bodies.default).toContain(NO_ROLE);
    expect(failed?.bodies.default).toContain(`arn:aws:iam::${NO_ROLE}:role/${ROLE}`);
    expect(sb.state.region(t.region).instances.size).toBe(0);
  });

  sandboxIt('a member whose role denies the hub, or whose STS throttles, fails alone with one record each', async () => {
    const deny = JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OUTSIDE}:root` }, Action: 'sts:AssumeRole' }],
    });
    sb.createRole(NO_ROLE, ROLE, deny);
    sb.throttleAssumeRole(B);
    try {
      const [a, b, c] = [await nodes(A, 1, 'payments'), await nodes(B, 1, 'search'), await nodes(NO_ROLE, 1, 'ml')];
      const enforce = await lambdaFor(t, 'enforce-instances', HUB_ENV);
      const [rb, rc, ra] = [
        await enforce(ct.runInstances(b, 'autoscaling', where(B))),
        await enforce(ct.runInstances(c, 'autoscaling', where(NO_ROLE))),
        await enforce(ct.runInstances(a, 'autoscaling', where(A))),
      ];
      expect([rb.counts, rc.counts, ra.counts]).toEqual([{ failed: 1 }, { failed: 1 }, { remediated: 1 }]);
      expect(optionsIn(B, idsOf(b))).toEqual([['optional', 2]]);
      expect(optionsIn(NO_ROLE, idsOf(c))).toEqual([['optional', 2]]);
      expect(new Set(assumed())).toEqual(new Set([`${B}:Throttling`, `${NO_ROLE}:AccessDenied`, `${A}:ok`]));
    } finally {
      sb.throttleAssumeRole(B, false);
      sb.account(NO_ROLE).roles.delete(ROLE);
    }
  });

  sandboxIt('rejects a forged envelope account and an account outside the organization, with no AssumeRole', async () => {
    const a = await nodes(A, 1, 'payments');
    const out = await nodes(OUTSIDE, 1, 'outsider');
    const enforce = await lambdaFor(t, 'enforce-instances', HUB_ENV);
    const forged = ct.runInstances(a, 'autoscaling', where(A));
    forged.account = B; // put on the bus by B, naming A's call
    const r1 = await enforce(forged);
    const r2 = await enforce(ct.runInstances(out, 'autoscaling', where(OUTSIDE)));
    expect([r1.status, r1.reason]).toEqual(['rejected', 'account-mismatch']);
    expect([r2.status, r2.reason]).toEqual(['rejected', 'outside-organization']);
    expect(calls()).toEqual([]);
    expect(optionsIn(A, idsOf(a))).toEqual([['optional', 2]]);
    expect(optionsIn(OUTSIDE, idsOf(out))).toEqual([['optional', 2]]);
    // The same event with a consistent account goes through.
    const ok = await enforce(ct.runInstances(a, 'autoscaling', where(A)));
    expect(ok.counts).toEqual({ remediated: 1 });
  });

  sandboxIt('an account deployment ignores the event account and assumes nothing (single-account behaviour)', async () => {
    const hubNodes = await launchInstances(t.ec2, 1, 'optional', 2, { 'eks:cluster-name': 'prod', owner: 'hub' });
    const enforce = await lambdaFor(t, 'enforce-instances', { IDENTITY_GATE: 'off' });
    const r = await enforce(ct.runInstances(hubNodes, 'autoscaling', where(HUB)));
    expect(r.counts).toEqual({ remediated: 1 });
    expect(calls()).toEqual([]);
  });

  sandboxIt('the queued path: the consumer makes each change in the item’s account, one AssumeRole per account', async () => {
    const cfg = { endpoint: t.endpoint, region: t.region };
    const { QueueUrl } = await new SQSClient(cfg).send(new CreateQueueCommand({ QueueName: 'imds-guard-org-remediation' }));
    const env = { ...HUB_ENV, REMEDIATION_QUEUE_URL: QueueUrl! };
    const [a, b] = [await nodes(A, 3, 'payments'), await nodes(B, 3, 'search')];
    const enforce = await lambdaFor(t, 'enforce-instances', env);
    for (const [xs, acct] of [
      [a, A],
      [b, B],
    ] as const)
      expect((await enforce(ct.runInstances(xs, 'autoscaling', where(acct)))).queued).toBe(3);
    const mark = sb.assumeRoleCalls().length;
    expect(optionsIn(A, idsOf(a))).toEqual(idsOf(a).map(() => ['optional', 2]));
    const consumer = await lambdaFor(t, 'remediate-instances', env);
    const src = startSqsEventSource({ ...cfg, queueUrl: QueueUrl!, handler: (e) => consumer(e), batchSize: 10, maximumConcurrency: 2 });
    try {
      await src.drained({ timeoutMs: 30_000 });
    } finally {
      await src.stop();
    }
    expect(optionsIn(A, idsOf(a))).toEqual(idsOf(a).map(() => ['required', 1]));
    expect(optionsIn(B, idsOf(b))).toEqual(idsOf(b).map(() => ['required', 1]));
    // The consumer is another function: its own credentials, assumed once per account.
    expect(
      newCalls(mark)
        .map((c) => `${c.account}:${c.outcome}`)
        .sort(),
    ).toEqual([`${A}:ok`, `${B}:ok`]);
    expect(src.stats()).toMatchObject({ failures: 0, errors: 0, deleted: 6 });
  });
});

group('a member that loses its role between the event and the consumer', () => {
  sandboxIt('the consumer records one failed record naming the account and role at once, and the others carry on', async () => {
    const cfg = { endpoint: t.endpoint, region: t.region };
    const { QueueUrl } = await new SQSClient(cfg).send(new CreateQueueCommand({ QueueName: 'imds-guard-org-refused' }));
    const env = { ...HUB_ENV, REMEDIATION_QUEUE_URL: QueueUrl! };
    const [a, b] = [await nodes(A, 1, 'payments'), await nodes(B, 2, 'search')];
    const enforce = await lambdaFor(t, 'enforce-instances', env);
    await enforce(ct.runInstances(a, 'autoscaling', where(A)));
    await enforce(ct.runInstances(b, 'autoscaling', where(B)));
    sb.account(A).roles.delete(ROLE);
    try {
      const before = sb.messages().length;
      const consumer = await lambdaFor(t, 'remediate-instances', env);
      const src = startSqsEventSource({ ...cfg, queueUrl: QueueUrl!, handler: (e) => consumer(e), batchSize: 10, maximumConcurrency: 1 });
      try {
        await src.drained({ timeoutMs: 30_000 });
      } finally {
        await src.stop();
      }
      expect(optionsIn(A, idsOf(a))).toEqual([['optional', 2]]);
      expect(optionsIn(B, idsOf(b))).toEqual(idsOf(b).map(() => ['required', 1]));
      const failed = sb
        .messages()
        .slice(before)
        .filter((m) => m.attributes.outcome === 'failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]?.bodies.default).toContain(`arn:aws:iam::${A}:role/${ROLE}`);
      // Not retried through the queue: a refusal is not transient.
      expect(src.stats()).toMatchObject({ failures: 0, deleted: 3 });
    } finally {
      sb.createRole(A, ROLE);
    }
  });
});
