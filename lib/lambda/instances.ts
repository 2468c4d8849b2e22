// enforce-instances: RunInstances / CreateFleet / ModifyInstanceMetadataOptions -> instance remediation.
import type { Config } from '../shell/config.js';
import { parseInstanceEvent } from '../kinds/instance/events.js';
import { enforceInstances } from '../kinds/instance/enforce.js';
import { makeEventHandler } from './event-handler.js';

export function makeInstanceHandler(config: Config) {
  return makeEventHandler(config, parseInstanceEvent, (targets, trigger, ctx, invocation) =>
    enforceInstances(targets, trigger, {
      ec2: ctx.clients.ec2,
      mode: config.MODE,
      settings: ctx.settings,
      concurrency: config.CONCURRENCY,
      policyFor: ctx.policyFor,
      ownerTagsFor: ctx.ownerTagsFor,
      // A fresh launch's NotFound is waited out only while the invocation has time left to report.
      ...(invocation ? { notFoundRetry: { remainingMs: () => invocation.getRemainingTimeInMillis() } } : {}),
    }),
  );
}
