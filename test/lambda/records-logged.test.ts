// Records are logged as each is decided: an invocation that times out (a Publish or a Modify that hangs) still
// leaves every record already decided in the log.
import { EC2Client, ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../lib/domain/audit.js';
import { clone, loadEvent } from '../helpers/events.js';
import { TOPIC, lambdaContext, loadFunction } from '../helpers/lambda.js';

type Mod = typeof import('../../functions/enforce-instances.js');
const ec2 = mockClient(EC2Client);
const sns = mockClient(SNSClient);
mockClient(EKSClient);
const env = { TOPIC_ARN: TOPIC, MAX_ATTEMPTS: '1', IDENTITY_GATE: 'off' };
const hang = () => new Promise<never>(() => undefined);
const id = (n: number) => `i-0000000000000${String(n).padStart(4, '0')}`;

function runEvent(n: number) {
  const e = clone(loadEvent('run-instances-direct-3'));
  e.detail.responseElements.instancesSet.items = Array.from({ length: n }, (_, k) => ({
    instanceId: id(k + 1),
    tagSet: {
      items: [
        { key: 'eks:cluster-name', value: 'payments' },
        { key: 'owner', value: `team-${k}` },
      ],
    },
    metadataOptions: { state: 'pending', httpTokens: 'optional', httpPutResponseHopLimit: 2 },
  }));
  delete e.detail.requestParameters.tagSpecificationSet;
  return e;
}

/** Load the function, capture its logger's audit lines, run one event until it settles or `ms` pass (the timeout). */
async function runWithTimeout(event: unknown, ms: number): Promise<{ lines: AuditRecord[]; timedOut: boolean }> {
  const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
  const { logger } = await import('../../lib/shell/observability.js');
  const lines: AuditRecord[] = [];
  for (const level of ['info', 'error'] as const)
    vi.spyOn(logger, level).mockImplementation((_m: unknown, ...extra: unknown[]) => {
      const a = (extra[0] as { audit?: AuditRecord } | undefined)?.audit;
      if (a) lines.push(a);
    });
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms));
  const outcome = await Promise.race([handler(event, lambdaContext()).then(() => 'done'), timeout]);
  return { lines, timedOut: outcome === 'timeout' };
}

beforeEach(() => {
  ec2.reset();
  sns.reset();
  ec2.on(ModifyInstanceMetadataOptionsCommand).callsFake((input) => ({
    InstanceMetadataOptions: { State: 'pending', HttpTokens: input.HttpTokens, HttpPutResponseHopLimit: input.HttpPutResponseHopLimit },
  }));
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('records are logged when made', () => {
  it('a Publish that hangs past the timeout: every record is already in the log, once', async () => {
    sns.on(PublishCommand).callsFake(hang);
    const { lines, timedOut } = await runWithTimeout(runEvent(6), 300);
    expect(timedOut).toBe(true);
    expect(sns).toHaveReceivedCommand(PublishCommand);
    expect(lines.map((l) => `${l.outcome} ${l.resource.id}`).sort()).toEqual(
      Array.from({ length: 6 }, (_, k) => `remediated ${id(k + 1)}`),
    );
  });

  it('a Modify that hangs past the timeout: the records decided before it are in the log', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    ec2.on(ModifyInstanceMetadataOptionsCommand, { InstanceId: id(6) }).callsFake(hang);
    const { lines, timedOut } = await runWithTimeout(runEvent(6), 300);
    expect(timedOut).toBe(true);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
    expect(lines.map((l) => l.resource.id).sort()).toEqual([1, 2, 3, 4, 5].map(id));
  });
});
