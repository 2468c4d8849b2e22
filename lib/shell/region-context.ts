// Everything a run needs for one Region. Shared by the event handlers and the backfill, and kept apart
// from the event handler module so the backfill bundle does not pull in the idempotency layer.
import { credentialsFor, sessionName } from './accounts.js';
import { ec2Client, eksClient, iamClient, type AccountAccess, type ClientOptions } from './clients.js';
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
  /** The member account this context acts in; unset = the function's own account. */
  account?: string;
  settings: Settings;
  clients: { ec2: ReturnType<typeof ec2Client>; eks: ReturnType<typeof eksClient>; iam: ReturnType<typeof iamClient> };
  policyFor: PolicyFor;
  ownerTagsFor: OwnerTagsFor;
  /** Node groups using a template, from an index built lazily once per context. */
  usedBy: UsedBy;
}

export interface RegionContextOptions extends Pick<ClientOptions, 'plugins'> {
  /** Act in this account through its member role (config MEMBER_ROLE_NAME); the home account or unset: own credentials. */
  account?: string;
  /** The function's own account (a hub's), which needs no AssumeRole. */
  home?: string;
  /** The event id, for the AssumeRole session name. */
  eventId?: string;
  /** Default `aws`. */
  partition?: string;
}

/** The deployment's own account: the one its topic (or queue) lives in. */
export function homeAccount(config: Config): string | undefined {
  return (
    /^arn:[\w-]+:sns:[\w-]+:(\d{12}):/.exec(config.TOPIC_ARN ?? '')?.[1] ?? /\/(\d{12})\//.exec(config.REMEDIATION_QUEUE_URL ?? '')?.[1]
  );
}

/**
 * Where an event's work happens: in a hub, the account the event names (through its member role); in an
 * account deployment, the function's own account whatever the event says.
 * @example
 * regionContext(config, trigger.region, actingIn(config, trigger.account, trigger.eventId));
 */
export function actingIn(config: Config, account: string, eventId?: string): RegionContextOptions {
  if (config.DEPLOYMENT !== 'hub') return {};
  const home = homeAccount(config);
  return { account, ...(home ? { home } : {}), ...(eventId ? { eventId } : {}) };
}

/** The member account and credentials a context acts with, or undefined for the function's own. */
export function accessFor(config: Config, o: RegionContextOptions): AccountAccess | undefined {
  if (!o.account || o.account === o.home) return undefined;
  const opts = {
    roleName: config.MEMBER_ROLE_NAME,
    sessionName: sessionName(o.eventId),
    ...(o.partition ? { partition: o.partition } : {}),
  };
  return { id: o.account, credentials: credentialsFor(o.account, opts) };
}

/**
 * Everything one Region needs, acting in `extra.account` when that is a member account.
 * @example
 * const ctx = regionContext(config, 'eu-west-1', { account: '444455556666', home: '111122223333', eventId });
 */
export function regionContext(config: Config, region: string, extra: RegionContextOptions = {}): RegionContext {
  const account = accessFor(config, extra);
  const opts = { maxAttempts: config.MAX_ATTEMPTS, ...(extra.plugins ? { plugins: extra.plugins } : {}), ...(account ? { account } : {}) };
  const clients = { ec2: ec2Client(region, opts), eks: eksClient(region, opts), iam: iamClient(opts) };
  return {
    config,
    region,
    ...(account ? { account: account.id } : {}),
    settings: settingsFrom(config),
    clients,
    policyFor: policyProvider(basePolicy(config), config.IDENTITY_GATE, () => clients, {
      scope: account ? `${account.id}/${region}` : region,
      ttlSeconds: config.IDENTITY_CACHE_SECONDS,
    }),
    ownerTagsFor: nodegroupOwnerTags(clients.eks),
    usedBy: nodegroupIndex(clients.eks),
  };
}
