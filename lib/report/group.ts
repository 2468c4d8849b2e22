// Records grouped as owners receive them: one group per (trigger, owner), in first-seen order. Pure.
import type { AuditRecord } from '../domain/audit.js';

export interface OwnerBatch {
  owner: string;
  records: AuditRecord[];
}

/**
 * One group per trigger (eventId) and owner: an SNS message, a Slack post. `ownerOf` defaults to the
 * record's resource owner (notify-slack passes the message's owner attribute instead).
 *
 * @example
 * groupByTriggerAndOwner([a1, b1, a2]).map((g) => g.owner); // => ['a', 'b'] (a1 and a2 together)
 */
export function groupByTriggerAndOwner(
  records: AuditRecord[],
  ownerOf: (r: AuditRecord) => string = (r) => r.resource.owner,
): OwnerBatch[] {
  const groups = new Map<string, OwnerBatch>();
  for (const r of records) {
    const owner = ownerOf(r);
    const key = `${r.trigger.eventId}\u0000${owner}`;
    const g = groups.get(key);
    if (g) g.records.push(r);
    else groups.set(key, { owner, records: [r] });
  }
  return [...groups.values()];
}
