// Everything a run needs for one Region. Shared by the event handlers and the backfill, and kept apart
// from the event handler module so the backfill bundle does not pull in the idempotency layer.
import { ec2Client, eksClient, iamClient, type ClientOptions } from './clients.js';
import type { Config } from './config.js';
import { policyProvider, type PolicyFor } from './identity.js';
import { nodegroupIndex, type UsedBy } from './nodegroup-index.js';
import { nodegroupOwnerTags, type OwnerTagsFor } from './owner-tags.js';
import type { Settings } from '../domain/scope.js';
import { basePolicy, settingsFrom } from './settings.js';

/** Built from config and cached clients. */
export interface RegionContext {
  config: Config;
  region: string;
  settings: Settings;
  clients: { ec2: ReturnType<typeof ec2Client>; eks: ReturnType<typeof eksClient>; iam: ReturnType<typeof iamClient> };
  policyFor: PolicyFor;
  ownerTagsFor: OwnerTagsFor;
  /** Node groups using a template, from an index built lazily once per context. */
  usedBy: UsedBy;
}

export function regionContext(config: Config, region: string, extra: Pick<ClientOptions, 'plugins'> = {}): RegionContext {
  const opts = { maxAttempts: config.MAX_ATTEMPTS, ...extra };
  const clients = { ec2: ec2Client(region, opts), eks: eksClient(region, opts), iam: iamClient(opts) };
  return {
    config,
    region,
    settings: settingsFrom(config),
    clients,
    policyFor: policyProvider(basePolicy(config), config.IDENTITY_GATE, () => clients, {
      scope: region,
      ttlSeconds: config.IDENTITY_CACHE_SECONDS,
    }),
    ownerTagsFor: nodegroupOwnerTags(clients.eks),
    usedBy: nodegroupIndex(clients.eks),
  };
}
