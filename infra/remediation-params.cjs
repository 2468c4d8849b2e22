// Params of the remediation queue and the sweep, checked at package time (CloudFormation would only fail
// at deploy, half-way through a change set) and returned as the numbers the template needs.
//   remediationConcurrency  the SQS event source's MaximumConcurrency (Lambda allows 2..1000) and the consumer's
//                           reserved concurrency; the consumer containers share the Region's EC2 bucket
//   maxReceives             the redrive maxReceiveCount (1..100, as MAX_RECEIVES in lib/shell/config.ts)
//   sweepSchedule           an EventBridge Scheduler rate() or cron() expression, or `off`
'use strict';

const int =
  (name, min, max) =>
  async ({ resolveVariable }) => {
    const raw = String(await resolveVariable(`param:${name}`)).trim();
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) throw new Error(`param ${name} must be an integer ${min}..${max}, not "${raw}"`);
    return n;
  };

const SCHEDULE = /^(off|rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$/;

module.exports.remediationConcurrency = int('remediationConcurrency', 2, 1000);
module.exports.maxReceives = int('maxReceives', 1, 100);
module.exports.sweepSchedule = async ({ resolveVariable }) => {
  const raw = String(await resolveVariable('param:sweepSchedule')).trim();
  if (!SCHEDULE.test(raw)) throw new Error(`param sweepSchedule must be rate(...), cron(...) or off, not "${raw}"`);
  return raw;
};
