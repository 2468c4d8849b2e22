import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fireSchedule } from '../../sandbox/event-source.js';
import { errorOf, harness, type Harness } from '../helpers/sandbox.js';

let h: Harness;
let scheduler: SchedulerClient;
beforeAll(async () => {
  h = await harness();
  scheduler = new SchedulerClient(h.cfg);
});
afterAll(() => h.sb.close());
beforeEach(() => h.sb.reset());

const FN = 'arn:aws:lambda:eu-west-1:111122223333:function:imds-guard-backfill';
const sweep = (over: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
  Name: 'imds-guard-sweep',
  ScheduleExpression: 'rate(6 hours)',
  FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
  Target: {
    Arn: FN,
    RoleArn: 'arn:aws:iam::111122223333:role/imds-guard-scheduler',
    Input: JSON.stringify({ mode: 'sweep', scheduleArn: '<aws.scheduler.schedule-arn>' }),
    RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
    DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:111122223333:sweep-dlq' },
  },
  ...over,
});

describe('EventBridge Scheduler', () => {
  it('creates, reads, lists, updates and deletes a schedule', async () => {
    const { ScheduleArn } = await scheduler.send(new CreateScheduleCommand(sweep()));
    expect(ScheduleArn).toBe('arn:aws:scheduler:eu-west-1:111122223333:schedule/default/imds-guard-sweep');
    const got = await scheduler.send(new GetScheduleCommand({ Name: 'imds-guard-sweep' }));
    expect(got).toMatchObject({ Arn: ScheduleArn, GroupName: 'default', State: 'ENABLED', ScheduleExpression: 'rate(6 hours)' });
    expect(got.Target).toEqual(sweep().Target);
    expect(got.FlexibleTimeWindow).toEqual({ Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 });
    expect(got.CreationDate).toBeInstanceOf(Date);
    const listed = await scheduler.send(new ListSchedulesCommand({ NamePrefix: 'imds-guard' }));
    expect(listed.Schedules).toEqual([expect.objectContaining({ Name: 'imds-guard-sweep', State: 'ENABLED', Target: { Arn: FN } })]);
    await scheduler.send(new UpdateScheduleCommand({ ...sweep(), State: 'DISABLED', ScheduleExpression: 'rate(1 hour)' }));
    expect(await scheduler.send(new GetScheduleCommand({ Name: 'imds-guard-sweep' }))).toMatchObject({
      State: 'DISABLED',
      ScheduleExpression: 'rate(1 hour)',
    });
    await scheduler.send(new DeleteScheduleCommand({ Name: 'imds-guard-sweep' }));
    expect((await errorOf(scheduler.send(new GetScheduleCommand({ Name: 'imds-guard-sweep' })))).name).toBe('ResourceNotFoundException');
  });

  it('rejects duplicates and invalid schedules in the real error shapes', async () => {
    await scheduler.send(new CreateScheduleCommand(sweep()));
    const dup = await errorOf(scheduler.send(new CreateScheduleCommand(sweep())));
    expect([dup.name, dup.$metadata?.httpStatusCode]).toEqual(['ConflictException', 409]);
    expect((await errorOf(scheduler.send(new CreateScheduleCommand(sweep({ Name: 'b', ScheduleExpression: 'every 6h' }))))).name).toBe(
      'ValidationException',
    );
    const noWindow = sweep({ Name: 'c', FlexibleTimeWindow: { Mode: 'FLEXIBLE' } });
    expect((await errorOf(scheduler.send(new CreateScheduleCommand(noWindow)))).name).toBe('ValidationException');
  });

  it('fails loudly when faults make Scheduler unavailable', async () => {
    h.sb.setFaults({ errors: { 'scheduler:*': { rate: 1, kind: '5xx' } } });
    const err = await errorOf(scheduler.send(new GetScheduleCommand({ Name: 'x' })));
    expect([err.name, err.$metadata?.httpStatusCode]).toEqual(['InternalServerException', 500]);
  });
});

describe('fireSchedule', () => {
  it('invokes the handler with the target Input and a Lambda context', async () => {
    await scheduler.send(new CreateScheduleCommand(sweep()));
    const calls: [unknown, Context][] = [];
    const out = await fireSchedule({
      endpoint: h.sb.url,
      region: 'eu-west-1',
      name: 'imds-guard-sweep',
      handler: (e, ctx) => {
        calls.push([e, ctx]);
        return { fixed: 3 };
      },
    });
    expect(out).toEqual({ fixed: 3 });
    expect(calls[0]![0]).toEqual({
      mode: 'sweep',
      scheduleArn: 'arn:aws:scheduler:eu-west-1:111122223333:schedule/default/imds-guard-sweep',
    });
    expect(calls[0]![1].functionName).toBe('imds-guard-backfill');
  });

  it('refuses a disabled or missing schedule', async () => {
    await scheduler.send(new CreateScheduleCommand(sweep({ State: 'DISABLED' })));
    const handler = () => undefined;
    await expect(fireSchedule({ endpoint: h.sb.url, name: 'imds-guard-sweep', handler })).rejects.toThrow('DISABLED');
    await expect(fireSchedule({ endpoint: h.sb.url, name: 'nope', handler })).rejects.toThrow('does not exist');
  });
});
