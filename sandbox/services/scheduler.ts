// EventBridge Scheduler (REST-JSON): CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule and
// ListSchedules in the `default` schedule group, as far as a deploy, `doctor` and the local sweep need.
// Schedules never fire by themselves: sandbox/event-source.ts `fireSchedule` runs one on demand.
import { AwsError } from '../errors.js';
import type { Ctx } from '../runtime.js';
import type { ScheduleRecord } from '../state.js';
import { page } from './paging.js';

const validation = (m: string) => new AwsError('ValidationException', m, 400);
const notFound = (name: string) => new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
const NAME_RE = /^[0-9a-zA-Z-_.]{1,64}$/;
const EXPRESSION_RE = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\)|at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\))$/;
const SPEC_KEYS = [
  'ScheduleExpression',
  'ScheduleExpressionTimezone',
  'StartDate',
  'EndDate',
  'Description',
  'State',
  'KmsKeyArn',
  'Target',
  'FlexibleTimeWindow',
  'ActionAfterCompletion',
];

function group(input: { GroupName?: string }): string {
  const g = input.GroupName ?? 'default';
  if (g !== 'default') throw new AwsError('ResourceNotFoundException', `Schedule group ${g} does not exist.`, 404);
  return g;
}

function checkSpec(input: any): Record<string, unknown> {
  if (!NAME_RE.test(String(input.Name ?? ''))) throw validation(`Invalid schedule name: ${String(input.Name)}`);
  if (!EXPRESSION_RE.test(String(input.ScheduleExpression ?? '')))
    throw validation(`Invalid Schedule Expression ${input.ScheduleExpression}.`);
  const ftw = input.FlexibleTimeWindow;
  if (!ftw || (ftw.Mode !== 'OFF' && ftw.Mode !== 'FLEXIBLE')) throw validation('FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.');
  const win = ftw.MaximumWindowInMinutes;
  if (ftw.Mode === 'FLEXIBLE' && !(Number.isInteger(win) && win >= 1 && win <= 1440)) {
    throw validation('MaximumWindowInMinutes must be between 1 and 1440 when Mode is FLEXIBLE.');
  }
  if (ftw.Mode === 'OFF' && win !== undefined) throw validation('MaximumWindowInMinutes is only allowed when Mode is FLEXIBLE.');
  const t = input.Target;
  if (!t?.Arn || !t?.RoleArn) throw validation('Target.Arn and Target.RoleArn are required.');
  const r = t.RetryPolicy;
  if (r?.MaximumEventAgeInSeconds !== undefined && !(r.MaximumEventAgeInSeconds >= 60 && r.MaximumEventAgeInSeconds <= 86400)) {
    throw validation('MaximumEventAgeInSeconds must be between 60 and 86400.');
  }
  if (r?.MaximumRetryAttempts !== undefined && !(r.MaximumRetryAttempts >= 0 && r.MaximumRetryAttempts <= 185)) {
    throw validation('MaximumRetryAttempts must be between 0 and 185.');
  }
  if (input.State !== undefined && input.State !== 'ENABLED' && input.State !== 'DISABLED')
    throw validation('State must be ENABLED or DISABLED.');
  const spec: Record<string, unknown> = { State: 'ENABLED' };
  for (const k of SPEC_KEYS) if (input[k] !== undefined) spec[k] = input[k];
  if (t.RetryPolicy === undefined) spec.Target = { ...t, RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 } };
  return spec;
}

function shape(s: ScheduleRecord) {
  return { Arn: s.arn, Name: s.name, GroupName: s.groupName, CreationDate: s.createdAt, LastModificationDate: s.modifiedAt, ...s.spec };
}

function find(ctx: Ctx, input: any): ScheduleRecord {
  const s = ctx.rt.state.region(ctx.region).schedules.get(`${group(input)}/${input.Name}`);
  if (!s) throw notFound(input.Name);
  return s;
}

export const schedulerHandlers: Record<string, (ctx: Ctx, input: any) => unknown> = {
  CreateSchedule(ctx, input) {
    const g = group(input);
    const spec = checkSpec(input);
    const schedules = ctx.rt.state.region(ctx.region).schedules;
    if (schedules.has(`${g}/${input.Name}`)) throw new AwsError('ConflictException', `Schedule ${input.Name} already exists.`, 409);
    const now = new Date();
    const arn = `arn:aws:scheduler:${ctx.region}:${ctx.rt.state.accountId}:schedule/${g}/${input.Name}`;
    schedules.set(`${g}/${input.Name}`, { arn, name: input.Name, groupName: g, createdAt: now, modifiedAt: now, spec });
    return { ScheduleArn: arn };
  },
  GetSchedule: (ctx, input) => shape(find(ctx, input)),
  UpdateSchedule(ctx, input) {
    const s = find(ctx, input);
    s.spec = checkSpec(input); // UpdateSchedule replaces every field, as in Scheduler.
    s.modifiedAt = new Date();
    return { ScheduleArn: s.arn };
  },
  DeleteSchedule(ctx, input) {
    const s = find(ctx, input);
    ctx.rt.state.region(ctx.region).schedules.delete(`${s.groupName}/${s.name}`);
    return {};
  },
  ListSchedules(ctx, input) {
    const all = [...ctx.rt.state.region(ctx.region).schedules.values()].filter(
      (s) =>
        (!input.GroupName || s.groupName === input.GroupName) &&
        (!input.NamePrefix || s.name.startsWith(input.NamePrefix)) &&
        (!input.State || s.spec.State === input.State),
    );
    const max = input.MaxResults;
    if (max !== undefined && !(max >= 1 && max <= 100)) throw validation('MaxResults must be between 1 and 100.');
    const p = page(all, max ?? 100, input.NextToken, `scheduler/${ctx.region}`, () => validation('Invalid NextToken.'));
    return {
      Schedules: p.items.map((s) => ({
        Arn: s.arn,
        Name: s.name,
        GroupName: s.groupName,
        State: s.spec.State,
        CreationDate: s.createdAt,
        LastModificationDate: s.modifiedAt,
        Target: { Arn: (s.spec.Target as { Arn: string }).Arn },
      })),
      ...(p.next ? { NextToken: p.next } : {}),
    };
  },
};
