// The instance kind, wired: RunInstances / CreateFleet / ModifyInstanceMetadataOptions -> instance remediation.
// With REMEDIATION_QUEUE_URL set, the changes go onto the remediation queue (the consumer makes them).
import { regionOfQueueUrl, sqsClient } from '../../shell/clients.js';
import type { Config } from '../../shell/config.js';
import type { EventKind } from '../types.js';
import { enforceInstances, type RemediationQueue } from './enforce.js';
import { parseInstanceEvent, type InstanceTarget } from './events.js';

/**
 * The queue the instance changes go to, or undefined for the direct path (local runs, the CLI).
 *
 * @example
 * remediationQueue(config, 'eu-west-1') // { sqs, url: config.REMEDIATION_QUEUE_URL, maxHopLimit: 1 }
 */
function remediationQueue(config: Config, home: string): RemediationQueue | undefined {
  const url = config.REMEDIATION_QUEUE_URL;
  if (!url) return undefined;
  const sqs = sqsClient(regionOfQueueUrl(url, process.env.AWS_REGION ?? home), { maxAttempts: config.MAX_ATTEMPTS });
  return { sqs, url, maxHopLimit: config.MAX_HOP_LIMIT };
}

export const instanceKind: EventKind<InstanceTarget> = {
  type: 'instance',
  parse: parseInstanceEvent,
  enforce: (targets, trigger, { config, ctx, remainingMs, onRecord, onQueued }) => {
    const queue = remediationQueue(config, ctx.region);
    return enforceInstances(targets, trigger, {
      ec2: ctx.clients.ec2,
      mode: config.MODE,
      settings: ctx.settings,
      concurrency: config.CONCURRENCY,
      policyFor: ctx.policyFor,
      ownerTagsFor: ctx.ownerTagsFor,
      // A fresh launch's NotFound is waited out only while the invocation has time left to report.
      ...(remainingMs ? { notFoundRetry: { remainingMs } } : {}),
      ...(queue ? { queue } : {}),
      ...(onRecord ? { onRecord } : {}),
      ...(onQueued ? { onQueued } : {}),
    });
  },
};
