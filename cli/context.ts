// What every command shares: the session set-up before the first resource call, confirmation, output.
import { writeFile } from 'node:fs/promises';
import { listEnabledRegions } from '../lib/kinds/instance/scan.js';
import { callerIdentity, newRunId, type RunInfo } from '../lib/runs/context.js';
import type { Skipped } from '../lib/runs/revert.js';
import type { BackfillResult } from '../lib/runs/run.js';
import { ec2Client, resetClients } from '../lib/shell/clients.js';
import type { Config } from '../lib/shell/config.js';
import { loadConfig } from '../lib/shell/config.js';
import { RateLimiter } from '../lib/shell/rate-limit.js';
import { displayFor } from './display.js';
import { UsageError } from './errors.js';
import { auditLines, render } from './format.js';
import { allRecords } from '../lib/runs/run.js';
import { auditStoreFor, keepRecords } from '../lib/shell/audit-store.js';
import { revertCommands } from '../lib/report/undo.js';
import type { CliIo } from './io.js';
import type { ConfirmOpts, ConnectionOpts } from './options.js';
import { missingProfile } from './profiles.js';
import { multibar, NO_PROGRESS, type Progress } from './progress.js';

interface Session {
  config: Config;
  run: RunInfo;
  regions: string[];
  limiter: RateLimiter;
}

/** The shared services a command runs with; one per `run()` call. */
export interface CommandContext {
  io: CliIo;
  /** The --endpoint-url of this run, once a session has set it (for error messages). */
  readonly endpoint: string | undefined;
  /** One `imds-guard: …` line on stderr. */
  errLine(s: string): void;
  /** Environment, config, caller, Regions: everything before the first resource call. */
  session(eventName: string, o: ConnectionOpts, overrides: Record<string, string>): Promise<Session>;
  /** Write --out and the rendered result; returns `exit`. */
  finish(
    command: string,
    o: ConnectionOpts & { all?: boolean },
    result: BackfillResult,
    exit: number,
    skipped?: Skipped[],
  ): Promise<number>;
  progressFor(regions: string[], quiet?: boolean): Progress;
  /** Whether to ask before changing anything; a usage error when asking is impossible. */
  mustConfirm(what: string, o: ConfirmOpts): boolean;
  /** Ask a yes/no question; true only for y / yes. */
  ask(question: string): Promise<boolean>;
}

function pointAt(o: ConnectionOpts): void {
  if (o.endpointUrl) {
    try {
      new URL(o.endpointUrl);
    } catch {
      throw new UsageError(`--endpoint-url: "${o.endpointUrl}" is not a URL`);
    }
    process.env.AWS_ENDPOINT_URL = o.endpointUrl;
  }
  if (o.profile) process.env.AWS_PROFILE = o.profile;
  // Clients are cached per process; this run may point somewhere else than the last one.
  resetClients();
}

function checkProfile(io: CliIo, o: ConnectionOpts): void {
  const [name, from] = o.profile ? [o.profile, '--profile'] : [io.env.AWS_PROFILE, 'AWS_PROFILE'];
  const why = name ? missingProfile(name, from, io.env) : undefined;
  if (why) throw new UsageError(why);
}

async function openSession(io: CliIo, eventName: string, o: ConnectionOpts, overrides: Record<string, string>): Promise<Session> {
  checkProfile(io, o);
  if (!o.quiet) for (const n of io.notices?.splice(0) ?? []) io.stderr.write(`imds-guard: ${n}\n`);
  pointAt(o);
  // The command decides the mode, never a MODE variable left in the environment.
  const config = loadConfig({ ...io.env, MODE: 'dry-run', ...overrides });
  const home = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? o.regions?.[0] ?? 'us-east-1';
  const caller = await callerIdentity(home);
  const regions = o.regions ?? (await listEnabledRegions(ec2Client(home, { maxAttempts: config.MAX_ATTEMPTS })));
  if (!regions.length) throw new UsageError('no enabled Regions found; pass --regions');
  const run: RunInfo = {
    runId: newRunId(),
    account: caller.account,
    actor: caller.arn,
    startedAt: new Date().toISOString(),
    source: 'cli',
    eventName,
  };
  return { config, run, regions, limiter: new RateLimiter({ ...(o.rateScale ? { timeScale: o.rateScale } : {}) }) };
}

const shellWord = (s: string) => (/^[\w./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** How to undo this run, as commands that run as printed: the --out file, else the audit store, else the options. */
function undoCommands(result: BackfillResult, out: string | undefined, auditTable: string | undefined): string[] {
  const commands = revertCommands(allRecords(result), auditTable ? { auditTable } : {});
  if (!commands.length || !out) return commands;
  return [`imds-guard revert --audit ${shellWord(out)}`];
}

/**
 * The context for one CLI run over `io`.
 * @example
 * const ctx = commandContext(processIo());
 * const s = await ctx.session('Scan', { output: 'table' }, {});
 */
export function commandContext(io: CliIo): CommandContext {
  let endpoint: string | undefined;
  let session: Session | undefined;
  return {
    io,
    get endpoint() {
      return endpoint;
    },
    errLine: (s) => io.stderr.write(`imds-guard: ${s}\n`),
    session: async (eventName, o, overrides) => {
      if (o.endpointUrl) endpoint = o.endpointUrl;
      session = await openSession(io, eventName, o, overrides);
      return session;
    },
    finish: async (command, o, result, exit, skipped) => {
      if (o.out) await writeFile(o.out, auditLines(result), 'utf8');
      // With AUDIT_TABLE the run's records are kept like the stack's (and `revert --event <run id>` reads them back).
      const store = session && auditStoreFor(session.config, session.regions[0] ?? 'us-east-1');
      await keepRecords(store, allRecords(result));
      const undo = undoCommands(result, o.out, store?.ref);
      const display = displayFor(io.stdout, io.env, !!o.quiet);
      const input = { command, result, exitCode: exit, display, ...(o.all ? { all: true } : {}), ...(skipped ? { skipped } : {}) };
      io.stdout.write(render(o.output, { ...input, ...(undo.length ? { undo } : {}) }));
      return exit;
    },
    progressFor: (regions, quiet) =>
      io.stderr.isTTY && !quiet ? multibar(regions, io.stderr as unknown as NodeJS.WritableStream) : NO_PROGRESS,
    mustConfirm: (what, o) => {
      if (o.yes || o.dryRun) return false;
      if (!io.interactive)
        throw new UsageError(`${what} changes resources: pass --yes to confirm (stdin is not a terminal), or --dry-run to preview`);
      return true;
    },
    ask: async (question) => {
      if (!io.prompt) return false;
      return /^y(es)?$/i.test((await io.prompt(question)).trim());
    },
  };
}
