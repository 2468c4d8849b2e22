// The names a stack's resources get (serverless.yml and infra/*.yml), from the stack name `${service}-${stage}`.
import { createHash } from 'node:crypto';
import type { QueueRole } from './facts.js';

/** The event functions whose EventBridge rule doctor expects, with what each rule is for. */
const RULE_FUNCTIONS = [
  { fn: 'enforceInstances', what: 'instances' },
  { fn: 'enforceLaunchTemplates', what: 'launch templates' },
  { fn: 'enforceNodegroups', what: 'node groups' },
] as const;

const QUEUE_SUFFIX: Record<QueueRole, string> = {
  remediation: 'remediation',
  'remediation-dlq': 'remediation-dlq',
  'events-dlq': 'events-dlq',
  'failed-invocations': 'failed-invocations',
};

/**
 * The rule name the Serverless Framework gives a function's first eventBridge event: `<function name>-rule-1`,
 * hashed when over 64 characters (osls compile/events/event-bridge/utils.js).
 * @example ruleName('imds-guard-prod', 'enforceInstances') // 'imds-guard-prod-enforceInstances-rule-1'
 */
export function ruleName(stackName: string, fn: string, index = 1): string {
  const suffix = `rule-${index}`;
  const name = `${stackName}-${fn}-${suffix}`;
  if (name.length <= 64) return name;
  return `${name.slice(0, 31 - suffix.length)}${createHash('md5').update(name).digest('hex')}-${suffix}`;
}

export interface StackNames {
  rules: { name: string; what: string }[];
  /** ListRules NamePrefix: the longest prefix every expected rule name shares with the stack name. */
  rulePrefix: string;
  queues: { role: QueueRole; name: string }[];
  schedule: string;
}

/**
 * Every name doctor looks up for one stack.
 * @example stackNames('imds-guard-prod').queues[0] // { role: 'remediation', name: 'imds-guard-prod-remediation' }
 */
export function stackNames(stackName: string): StackNames {
  const rules = RULE_FUNCTIONS.map((r) => ({ name: ruleName(stackName, r.fn), what: r.what }));
  let rulePrefix = stackName;
  while (rulePrefix && !rules.every((r) => r.name.startsWith(rulePrefix))) rulePrefix = rulePrefix.slice(0, -1);
  return {
    rules,
    rulePrefix,
    queues: (Object.keys(QUEUE_SUFFIX) as QueueRole[]).map((role) => ({ role, name: `${stackName}-${QUEUE_SUFFIX[role]}` })),
    schedule: `${stackName}-sweep`,
  };
}
