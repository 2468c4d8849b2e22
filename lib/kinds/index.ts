// The registry: every resource kind, in report order (summaries and backfill records list them so), with its
// backfill section. A new kind adds one line here.
import type { ResourceType } from '../domain/audit.js';
import { accountDefaultsBackfill } from './account-defaults/backfill.js';
import { accountDefaultsKind } from './account-defaults/kind.js';
import { instanceBackfill } from './instance/backfill.js';
import { instanceKind } from './instance/kind.js';
import { launchTemplateBackfill } from './launch-template/backfill.js';
import { launchTemplateKind } from './launch-template/kind.js';
import { nodegroupBackfill } from './nodegroup/backfill.js';
import { nodegroupKind } from './nodegroup/kind.js';
import type { RegisteredKind } from './types.js';

export const KINDS: readonly RegisteredKind[] = [
  { ...accountDefaultsKind, backfill: accountDefaultsBackfill },
  { ...launchTemplateKind, backfill: launchTemplateBackfill },
  { ...nodegroupKind, backfill: nodegroupBackfill },
  { ...instanceKind, backfill: instanceBackfill },
];

/**
 * A kind's position in reports.
 *
 * @example
 * kindOrder('launch-template') < kindOrder('instance') // true
 */
export function kindOrder(type: ResourceType): number {
  return KINDS.findIndex((k) => k.type === type);
}
