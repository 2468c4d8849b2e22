// The instance kind, wired: RunInstances / CreateFleet / ModifyInstanceMetadataOptions -> instance remediation.
import type { EventKind } from '../types.js';
import { enforceInstances } from './enforce.js';
import { parseInstanceEvent, type InstanceTarget } from './events.js';

export const instanceKind: EventKind<InstanceTarget> = {
  type: 'instance',
  parse: parseInstanceEvent,
  enforce: (targets, trigger, { config, ctx, remainingMs }) =>
    enforceInstances(targets, trigger, {
      ec2: ctx.clients.ec2,
      mode: config.MODE,
      settings: ctx.settings,
      concurrency: config.CONCURRENCY,
      policyFor: ctx.policyFor,
      ownerTagsFor: ctx.ownerTagsFor,
      // A fresh launch's NotFound is waited out only while the invocation has time left to report.
      ...(remainingMs ? { notFoundRetry: { remainingMs } } : {}),
    }),
};
