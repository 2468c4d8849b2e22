// EventBridge (JSON 1.1), the default bus only: rules as `imds-guard doctor` reads them (no targets, no delivery).
import type * as eb from '@aws-sdk/client-eventbridge';
import { AwsError } from '../errors.js';
import type { Json11Service } from '../protocol/json11.js';
import type { Ctx } from '../runtime.js';
import type { RegionState } from '../state.js';
import { page } from './paging.js';

interface RuleRecord {
  name: string;
  arn: string;
  state: eb.RuleState;
  pattern?: string;
  schedule?: string;
  description?: string;
}

// Keyed by the Region's state object, so a sandbox reset forgets every rule.
const rulesByRegion = new WeakMap<RegionState, Map<string, RuleRecord>>();
function rules(rs: RegionState): Map<string, RuleRecord> {
  let m = rulesByRegion.get(rs);
  if (!m) {
    m = new Map();
    rulesByRegion.set(rs, m);
  }
  return m;
}

function rule(ctx: Ctx, name: string | undefined): RuleRecord {
  const r = rules(ctx.rs).get(name ?? '');
  if (!r) throw new AwsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus default.`);
  return r;
}

const view = (r: RuleRecord) => ({
  Name: r.name,
  Arn: r.arn,
  State: r.state,
  EventBusName: 'default',
  ...(r.pattern ? { EventPattern: r.pattern } : {}),
  ...(r.schedule ? { ScheduleExpression: r.schedule } : {}),
  ...(r.description ? { Description: r.description } : {}),
});

function setState(ctx: Ctx, name: string | undefined, state: eb.RuleState): object {
  rule(ctx, name).state = state;
  return {};
}

export const eventbridgeService: Json11Service = {
  target: 'AWSEvents',
  namespace: 'com.amazonaws.eventbridge',
  throttle: () => new AwsError('ThrottlingException', 'Rate exceeded'),
  server: () => new AwsError('InternalException', 'An internal error occurred', 500),
  handlers: {
    PutRule(ctx, i: eb.PutRuleRequest) {
      if (!i.Name || !/^[.\-_A-Za-z0-9]{1,64}$/.test(i.Name)) throw new AwsError('ValidationException', `Invalid rule name: ${i.Name}`);
      if (!i.EventPattern && !i.ScheduleExpression) {
        throw new AwsError('ValidationException', 'Parameter(s) EventPattern or ScheduleExpression must be specified.');
      }
      if (i.EventPattern) {
        try {
          JSON.parse(i.EventPattern);
        } catch {
          throw new AwsError('InvalidEventPatternException', 'Event pattern is not valid JSON.');
        }
      }
      const prev = rules(ctx.rs).get(i.Name);
      const r: RuleRecord = {
        name: i.Name,
        arn: `arn:aws:events:${ctx.region}:${ctx.rt.state.accountId}:rule/${i.Name}`,
        state: (i.State as eb.RuleState | undefined) ?? prev?.state ?? 'ENABLED',
        ...(i.EventPattern ? { pattern: i.EventPattern } : {}),
        ...(i.ScheduleExpression ? { schedule: i.ScheduleExpression } : {}),
        ...(i.Description ? { description: i.Description } : {}),
      };
      rules(ctx.rs).set(r.name, r);
      return { RuleArn: r.arn };
    },
    ListRules(ctx, i: eb.ListRulesRequest) {
      const all = [...rules(ctx.rs).values()]
        .filter((r) => !i.NamePrefix || r.name.startsWith(i.NamePrefix))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      const p = page(
        all,
        i.Limit,
        i.NextToken,
        `rules:${i.NamePrefix ?? ''}`,
        () => new AwsError('ValidationException', 'Invalid NextToken'),
      );
      return { Rules: p.items.map(view), ...(p.next ? { NextToken: p.next } : {}) };
    },
    DescribeRule(ctx, i: eb.DescribeRuleRequest) {
      return { ...view(rule(ctx, i.Name)), CreatedBy: ctx.rt.state.accountId };
    },
    EnableRule: (ctx, i: eb.EnableRuleRequest) => setState(ctx, i.Name, 'ENABLED'),
    DisableRule: (ctx, i: eb.DisableRuleRequest) => setState(ctx, i.Name, 'DISABLED'),
  },
};
