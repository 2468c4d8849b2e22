// The revert commands owner messages and run summaries print. Pure. Every command here runs as printed (a
// test extracts each one from rendered messages and runs it through the CLI): no placeholders, no clipped
// lists, the CLI's real option names. With the audit store, one command undoes a whole trigger
// (`revert --event`); without it, one `--instances … --before …` command per recorded before-state.
import type { AuditRecord } from '../domain/audit.js';

/** Where the records of a run are kept, when anywhere: the audit store's table (AUDIT_TABLE, a name or ARN). */
export interface UndoContext {
  auditTable?: string;
}

/** Instance IDs per `--instances` command: enough for a message, short enough for a terminal. */
const MAX_IDS = 20;

/** The instance records a revert would act on: remediated (not a dry run), with a full "before". */
function revertible(records: readonly AuditRecord[]): AuditRecord[] {
  return records.filter(
    (r) =>
      r.outcome === 'remediated' &&
      r.mode === 'enforce' &&
      r.resource.type === 'instance' &&
      r.before?.httpTokens !== undefined &&
      r.before.hopLimit !== undefined,
  );
}

function beforeSpec(r: AuditRecord): string {
  const b = r.before ?? {};
  return `tokens=${b.httpTokens},hop=${b.hopLimit}${b.httpEndpoint ? `,endpoint=${b.httpEndpoint}` : ''}`;
}

/**
 * The commands that undo these records' instance changes; empty when nothing was changed.
 *
 * @example
 * revertCommands(records, { auditTable: 'imds-guard-prod-audit' });
 * // => ['imds-guard revert --event 7f0c… --audit-table imds-guard-prod-audit']
 * revertCommands(records); // => ['imds-guard revert --instances i-a,i-b --regions eu-west-1 --before tokens=optional,hop=2']
 */
export function revertCommands(records: readonly AuditRecord[], undo: UndoContext = {}): string[] {
  const changed = revertible(records);
  if (!changed.length) return [];
  if (undo.auditTable) {
    const events = [...new Set(changed.map((r) => r.trigger.eventId))];
    return events.map((e) => `imds-guard revert --event ${e} --audit-table ${undo.auditTable}`);
  }
  const groups = new Map<string, { region: string; spec: string; ids: string[] }>();
  for (const r of changed) {
    const spec = beforeSpec(r);
    const key = `${r.resource.region} ${spec}`;
    const g = groups.get(key) ?? { region: r.resource.region, spec, ids: [] };
    if (!g.ids.includes(r.resource.id)) g.ids.push(r.resource.id);
    groups.set(key, g);
  }
  return [...groups.values()].flatMap((g) => {
    const out: string[] = [];
    for (let i = 0; i < g.ids.length; i += MAX_IDS)
      out.push(`imds-guard revert --instances ${g.ids.slice(i, i + MAX_IDS).join(',')} --regions ${g.region} --before ${g.spec}`);
    return out;
  });
}

/**
 * One line on how to undo, for message footers; undefined when nothing was changed.
 *
 * @example
 * undoLines(records, {}); // => ['To undo: imds-guard revert --instances i-a --regions eu-west-1 --before tokens=optional,hop=2', …]
 */
export function undoLines(records: readonly AuditRecord[], undo: UndoContext = {}): string[] {
  const cmds = revertCommands(records, undo);
  if (!cmds.length) return [];
  return [
    ...cmds.map((c) => `To undo: ${c}`),
    '(revert --audit also reads this message saved as JSON, or a --out file; it may turn IMDSv1 back on, on purpose.)',
  ];
}
