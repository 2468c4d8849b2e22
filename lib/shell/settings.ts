// Config -> the plain settings objects the core takes.
import type { Config } from './config.js';
import type { Policy } from '../domain/policy.js';
import type { Settings } from '../domain/scope.js';

export function settingsFrom(c: Config): Settings {
  return {
    scope: c.SCOPE,
    exemptTagKey: c.EXEMPT_TAG_KEY,
    exemptTagValue: c.EXEMPT_TAG_VALUE,
    exemptClusters: c.EXEMPT_CLUSTERS,
    ownerTagKeys: c.OWNER_TAG_KEYS,
    defaultOwner: c.DEFAULT_OWNER,
    ownerSource: c.OWNER_SOURCE,
  };
}

export function basePolicy(c: Config): Policy {
  return { maxHopLimit: c.MAX_HOP_LIMIT };
}
