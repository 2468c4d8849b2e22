// The registry: every resource kind, in report order (summaries and backfill records list them so).
// A new kind adds one line here.
import type { ResourceType } from '../domain/audit.js';
import { accountDefaultsKind } from './account-defaults/kind.js';
import { instanceKind } from './instance/kind.js';
import { launchTemplateKind } from './launch-template/kind.js';
import { nodegroupKind } from './nodegroup/kind.js';
import type { Kind } from './types.js';

export const KINDS: readonly Kind[] = [accountDefaultsKind, launchTemplateKind, nodegroupKind, instanceKind];

/**
 * A kind's position in reports.
 *
 * @example
 * kindOrder('launch-template') < kindOrder('instance') // true
 */
export function kindOrder(type: ResourceType): number {
  return KINDS.findIndex((k) => k.type === type);
}
