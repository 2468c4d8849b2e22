// The account defaults kind: one per Region, checked by the backfill and the account-defaults command; no event triggers it.
import type { Kind } from '../types.js';

export const accountDefaultsKind: Kind = { type: 'account-defaults' };
