// imds-guard CLI: scan, enforce, revert, account-defaults. `run(argv, io)` returns the exit code and
// never calls process.exit, so tests run it in-process; `main()` is the process entry point.
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ec2Client, resetClients } from '../lib/shell/clients.js';
import { listEnabledRegions } from '../lib/kinds/instance/scan.js';
import { RateLimiter } from '../lib/shell/rate-limit.js';
import { accountDefaultsRun } from '../lib/runs/account-defaults.js';
import { callerIdentity, newRunId, type RunInfo } from '../lib/runs/context.js';
import {
  parseAuditLines,
  parseBeforeSpec,
  itemsFromIds,
  revertRun,
  selectReverts,
  RevertInputError,
  type RevertItem,
  type Skipped,
} from '../lib/runs/revert.js';
import { runBackfill, type BackfillResult, type PlanOverview } from '../lib/runs/run.js';
import { exitCode } from '../lib/report/summary.js';
import { ConfigError, loadConfig, type Config } from '../lib/shell/config.js';
import { ENFORCED_WARNING } from '../lib/kinds/account-defaults/policy.js';
import { REGION_NAME } from '../lib/domain/region.js';
import { auditLines, render, type OutputFormat } from './format.js';
import { doctorCommand } from './commands/doctor.js';
import { multibar, NO_PROGRESS, type Progress } from './progress.js';

export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  /** stdin and stderr are terminals: enforce may ask before changing anything. */
  interactive: boolean;
  /** Where configuration (MAX_HOP_LIMIT, EXEMPT_*, …) and the home Region are read from. */
  env: Record<string, string | undefined>;
  /** Ask a yes/no question; default: readline on stdin/stderr. */
  prompt?: (question: string) => Promise<string>;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    env: process.env,
    prompt: async (q) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(q);
      } finally {
        rl.close();
      }
    },
  };
}

/** A user mistake: one line on stderr, exit 2, no AWS call. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function list(v: string, prev: string[] = []): string[] {
  return [
    ...prev,
    ...v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}
function regionList(v: string): string[] {
  const out = list(v);
  for (const r of out) if (!REGION_NAME.test(r)) throw new InvalidArgumentError(`"${r}" is not a Region name (e.g. eu-west-1)`);
  if (!out.length) throw new InvalidArgumentError('give at least one Region');
  return [...new Set(out)];
}
const intIn = (lo: number, hi: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected an integer from ${lo} to ${hi}`);
  return n;
};
function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

interface ConnectionOpts {
  regions?: string[];
  profile?: string;
  endpointUrl?: string;
  concurrency?: number;
  output: OutputFormat;
  out?: string;
  rateScale?: number;
}
interface ScanOpts extends ConnectionOpts {
  scope?: 'eks' | 'all';
  cluster: string[];
  maxHopLimit?: number;
  identityGate?: 'warn' | 'hold' | 'off';
  query: 'inventory' | 'violations';
  all?: boolean;
}
interface EnforceOpts extends ScanOpts {
  yes?: boolean;
  dryRun?: boolean;
  rollout?: boolean;
}
interface RevertOpts extends ConnectionOpts {
  audit?: string;
  instances?: string[];
  before?: string;
  yes?: boolean;
  dryRun?: boolean;
}
interface DefaultsOpts extends ConnectionOpts {
  check?: boolean;
  apply?: boolean;
  httpTokensEnforced?: boolean;
  maxHopLimit?: number;
  yes?: boolean;
  dryRun?: boolean;
}

function connection(cmd: Command): Command {
  return cmd
    .option('--regions <list>', 'comma-separated Regions (default: every enabled Region, from DescribeRegions)', regionList)
    .option('--profile <name>', 'AWS shared config profile')
    .option('--endpoint-url <url>', 'send every AWS call here (e.g. the local sandbox)')
    .option('--concurrency <n>', 'parallel calls per Region (the rate limiter still paces them)', intIn(1, 100))
    .addOption(new Option('--output <format>', 'stdout format').choices(['table', 'json', 'csv']).default('table'))
    .option('--out <file>', 'write the full audit as JSON Lines (what revert --audit reads)')
    .addOption(
      new Option('--rate-scale <factor>', 'multiply the EC2 bucket refill rates (sandbox benchmarks only)').argParser(positive).hideHelp(),
    );
}

function scanning(cmd: Command): Command {
  return connection(cmd)
    .addOption(new Option('--scope <scope>', 'which instances: EKS nodes, or every instance').choices(['eks', 'all']))
    .option('--cluster <name>', 'only these clusters (repeatable, or a comma list)', list, [])
    .option('--max-hop-limit <n>', 'highest compliant hop limit (default: MAX_HOP_LIMIT or 1)', intIn(1, 64))
    .addOption(
      new Option('--identity-gate <gate>', 'clusters without IRSA/Pod Identity: warn, hold (tokens only), off').choices([
        'warn',
        'hold',
        'off',
      ]),
    )
    .addOption(
      new Option('--query <q>', 'inventory: list every instance in scope; violations: let EC2 filters return only non-compliant ones')
        .choices(['inventory', 'violations'])
        .default('inventory'),
    )
    .option('--all', 'table: also list compliant and out-of-scope resources');
}

/** Maps the errors people actually hit to one line with the fix. */
export function explain(err: unknown, endpoint?: string): string {
  const e = err as { name?: string; message?: string; code?: string; errors?: { code?: string }[]; $metadata?: unknown };
  const name = e?.name ?? 'Error';
  const msg = e?.message ?? String(err);
  const code = e?.code ?? e?.errors?.[0]?.code;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(msg)) {
    return 'no AWS credentials found: pass --profile NAME (or set AWS_PROFILE / AWS_ACCESS_KEY_ID); for a local run start the sandbox with `npm run sandbox` and export the variables it prints';
  }
  if (
    [
      'InvalidClientTokenId',
      'UnrecognizedClientException',
      'AuthFailure',
      'ExpiredToken',
      'ExpiredTokenException',
      'SignatureDoesNotMatch',
      'InvalidAccessKeyId',
    ].includes(name)
  ) {
    return `AWS rejected the credentials (${name}: ${msg}); refresh them (e.g. aws sso login) or pick another --profile`;
  }
  if (code && ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(code)) {
    return `cannot reach ${endpoint ?? 'the AWS endpoint'} (${code})${endpoint ? ': is the sandbox running? `npm run sandbox`' : ''}`;
  }
  if (name === 'UnauthorizedOperation' || name === 'AccessDenied' || name === 'AccessDeniedException') return `not allowed: ${msg}`;
  return `${name}: ${msg}`;
}

interface Session {
  config: Config;
  run: RunInfo;
  regions: string[];
  limiter: RateLimiter;
}

export async function run(argv: string[], io: CliIo = processIo()): Promise<number> {
  const errLine = (s: string) => io.stderr.write(`imds-guard: ${s}\n`);
  const saved = { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL, AWS_PROFILE: process.env.AWS_PROFILE };
  let code = 2;
  let endpoint: string | undefined;

  /** Environment, config, caller, Regions: everything before the first resource call. */
  const session = async (eventName: string, o: ConnectionOpts, overrides: Record<string, string>): Promise<Session> => {
    if (o.endpointUrl) {
      try {
        new URL(o.endpointUrl);
      } catch {
        throw new UsageError(`--endpoint-url: "${o.endpointUrl}" is not a URL`);
      }
      endpoint = o.endpointUrl;
      process.env.AWS_ENDPOINT_URL = o.endpointUrl;
    }
    if (o.profile) process.env.AWS_PROFILE = o.profile;
    // Clients are cached per process; this run may point somewhere else than the last one.
    resetClients();
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
  };

  const finish = async (
    command: string,
    o: ConnectionOpts & { all?: boolean },
    result: BackfillResult,
    exit: number,
    skipped?: Skipped[],
  ): Promise<number> => {
    if (o.out) await writeFile(o.out, auditLines(result), 'utf8');
    io.stdout.write(
      render(o.output, { command, result, exitCode: exit, ...(o.all ? { all: true } : {}), ...(skipped ? { skipped } : {}) }),
    );
    return exit;
  };

  const progressFor = (regions: string[]): Progress =>
    io.stderr.isTTY ? multibar(regions, io.stderr as unknown as NodeJS.WritableStream) : NO_PROGRESS;

  const mustConfirm = (what: string, o: { yes?: boolean; dryRun?: boolean }) => {
    if (o.yes || o.dryRun) return false;
    if (!io.interactive)
      throw new UsageError(`${what} changes resources: pass --yes to confirm (stdin is not a terminal), or --dry-run to preview`);
    return true;
  };
  const ask = async (question: string): Promise<boolean> => {
    if (!io.prompt) return false;
    return /^y(es)?$/i.test((await io.prompt(question)).trim());
  };

  const scanOverrides = (o: ScanOpts): Record<string, string> => ({
    ...(o.scope ? { SCOPE: o.scope } : {}),
    ...(o.concurrency ? { CONCURRENCY: String(o.concurrency) } : {}),
    ...(o.maxHopLimit ? { MAX_HOP_LIMIT: String(o.maxHopLimit) } : {}),
    ...(o.identityGate ? { IDENTITY_GATE: o.identityGate } : {}),
  });

  const backfill = async (command: 'scan' | 'enforce', o: EnforceOpts): Promise<number> => {
    const dry = command === 'scan' || !!o.dryRun;
    const confirm = command === 'enforce' && mustConfirm('enforce', o);
    const s = await session(command === 'scan' ? 'Scan' : 'Enforce', o, {
      ...scanOverrides(o),
      ...(o.rollout ? { ROLLOUT: 'true' } : {}),
      MODE: dry ? 'dry-run' : 'enforce',
    });
    const progress = progressFor(s.regions);
    let result: BackfillResult;
    try {
      result = await runBackfill({
        config: s.config,
        run: s.run,
        limiter: s.limiter,
        hooks: progress.hooks,
        request: { mode: dry ? 'dry-run' : 'enforce', regions: s.regions, clusters: o.cluster, query: o.query },
        ...(confirm
          ? {
              confirm: async (plan: PlanOverview) => {
                progress.stop();
                io.stderr.write(`\n${planText(plan)}\n`);
                return ask(`Apply these ${plan.total} changes in account ${s.run.account}? [y/N] `);
              },
            }
          : {}),
      });
    } finally {
      progress.stop();
    }
    return finish(command, o, result, exitCode(result.regions));
  };

  const revert = async (o: RevertOpts): Promise<number> => {
    if (!o.audit === !o.instances)
      throw new UsageError('revert takes either --audit FILE or --instances i-a,i-b (with --before tokens=…,hop=…)');
    if (o.instances && !o.before) throw new UsageError('--instances needs --before tokens=optional|required,hop=N[,endpoint=enabled]');
    if (o.audit && o.before) throw new UsageError('--before goes with --instances; with --audit the recorded "before" is restored');
    if (o.instances && o.regions && o.regions.length !== 1) throw new UsageError('--instances needs exactly one --regions value');
    let audit: ReturnType<typeof parseAuditLines> | undefined;
    let restore: RevertItem['restore'] | undefined;
    try {
      if (o.audit) audit = parseAuditLines(await readFile(o.audit, 'utf8'));
      if (o.before) restore = parseBeforeSpec(o.before);
    } catch (err) {
      if (err instanceof RevertInputError) throw new UsageError(`${o.audit ? `${o.audit}: ` : ''}${err.message}`);
      const e = err as NodeJS.ErrnoException;
      throw new UsageError(`cannot read ${o.audit}: ${e.code ?? e.message}`);
    }
    const confirm = mustConfirm('revert', o);
    const home = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
    const region = o.regions?.[0] ?? home;
    if (o.instances && !region) throw new UsageError('--instances needs --regions (or AWS_REGION)');
    const s = await session(
      'Revert',
      { ...o, regions: o.regions ?? [region ?? 'us-east-1'] },
      o.concurrency ? { CONCURRENCY: String(o.concurrency) } : {},
    );
    let items: RevertItem[];
    let skipped: Skipped[] = [];
    if (audit) {
      ({ items, skipped } = selectReverts(audit, s.run.account));
      if (o.regions) items = items.filter((i) => o.regions!.includes(i.region));
    } else items = itemsFromIds(o.instances!, region!, restore!);
    if (confirm && items.length) {
      io.stderr.write(
        `\nRevert ${items.length} instance(s) to their recorded options (this may turn IMDSv1 back on):\n${items
          .slice(0, 20)
          .map((i) => `  ${i.region} ${i.instanceId} -> tokens=${i.restore.httpTokens} hop=${i.restore.hopLimit}`)
          .join('\n')}${items.length > 20 ? `\n  …and ${items.length - 20} more` : ''}\n`,
      );
      if (!(await ask('Revert? [y/N] '))) {
        errLine('aborted: nothing was changed');
        return 1;
      }
    }
    const result = await revertRun({ config: s.config, items, run: s.run, dryRun: !!o.dryRun, limiter: s.limiter });
    const failed = result.regions.some((r) => r.error)
      ? 2
      : result.regions.some((r) => r.records.some((x) => x.outcome === 'failed'))
        ? 1
        : 0;
    return finish('revert', o, result, failed, skipped);
  };

  const defaults = async (o: DefaultsOpts): Promise<number> => {
    if (!o.check === !o.apply) throw new UsageError('account-defaults takes exactly one of --check or --apply');
    if (o.apply && o.httpTokensEnforced) io.stderr.write(`\n*** WARNING ***\n${ENFORCED_WARNING}\n\n`);
    const confirm = !!o.apply && mustConfirm('account-defaults --apply', o);
    const s = await session('AccountDefaults', o, { ...(o.maxHopLimit ? { MAX_HOP_LIMIT: String(o.maxHopLimit) } : {}) });
    if (confirm) {
      const q = `Set HttpTokens=required, HttpPutResponseHopLimit=${s.config.MAX_HOP_LIMIT}${o.httpTokensEnforced ? ' and HttpTokensEnforced=enabled' : ''} as the account default in ${s.regions.join(', ')}? [y/N] `;
      if (!(await ask(q))) {
        errLine('aborted: nothing was changed');
        return 1;
      }
    }
    const result = await accountDefaultsRun({
      config: s.config,
      run: s.run,
      limiter: s.limiter,
      request: { regions: s.regions, apply: !!o.apply, dryRun: !!o.dryRun, enforceTokens: !!o.httpTokensEnforced },
    });
    return finish('account-defaults', o, result, exitCode(result.regions));
  };

  const program = new Command('imds-guard')
    .description('Find and fix EC2 instances, launch templates and EKS node groups that allow IMDSv1 or pass IMDS tokens to pods.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      '\nExit codes: 0 nothing left to fix, 1 violations remain (or changes failed), 2 errors (bad arguments, credentials, API failures).',
    );

  const act = (fn: (o: any) => Promise<number>) => async (o: any) => {
    code = await fn(o);
  };

  scanning(program.command('scan').description('report what is out of policy; changes nothing (exit 1 when violations are found)')).action(
    act((o: ScanOpts) => backfill('scan', o as EnforceOpts)),
  );
  scanning(program.command('enforce').description('fix what scan reports (asks first on a terminal; --yes otherwise)'))
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'plan only: report what would change')
    .option('--rollout', 'also roll node groups onto the fixed launch template version (replaces their nodes)')
    .action(act((o: EnforceOpts) => backfill('enforce', o)));
  connection(program.command('revert').description('restore the MetadataOptions recorded as "before" (may re-enable IMDSv1, on purpose)'))
    .option('--audit <file>', 'JSON Lines audit written by --out; records with outcome remediated are reverted')
    .option('--instances <ids>', 'comma-separated instance IDs (with --before)', (v: string) => list(v))
    .option('--before <spec>', 'options to restore for --instances: tokens=optional|required,hop=N[,endpoint=enabled|disabled]')
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'report what would be restored')
    .action(act(revert));
  connection(program.command('account-defaults').description('check or set the account-level instance metadata defaults per Region'))
    .option('--check', 'report the posture (exit 1 when not compliant)')
    .option('--apply', 'set HttpTokens=required and HttpPutResponseHopLimit=<max>')
    .option('--http-tokens-enforced', 'also set HttpTokensEnforced=enabled (breaks launches from EKS default templates!)')
    .option('--max-hop-limit <n>', 'hop limit to set (default: MAX_HOP_LIMIT or 1)', intIn(1, 64))
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'with --apply: report what would change')
    .action(act(defaults));
  doctorCommand(program, io, (c) => (code = c));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; any usage mistake is a 2 (commander already printed it).
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
    }
    if (err instanceof UsageError || err instanceof ConfigError) errLine(err.message);
    else errLine(explain(err, endpoint));
    return 2;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function planText(plan: PlanOverview): string {
  const lines = plan.regions
    .filter((r) => Object.keys(r.changes).length)
    .map(
      (r) =>
        `  ${r.region}: ${Object.entries(r.changes)
          .map(([t, n]) => `${n} ${t}${n === 1 ? '' : 's'}`)
          .join(', ')}`,
    );
  return `imds-guard would change ${plan.total} resource(s):\n${lines.join('\n')}`;
}

const flush = (s: NodeJS.WriteStream) => new Promise<void>((r) => s.write('', () => r()));

/** Process entry point: exit with run()'s code once stdout has drained. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  // Local runs on Node 20: the SDK's Node-version notice is noise on stderr (Lambda runs 22/24).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // `imds-guard enforce | head`: once the reader leaves, output is dropped but the run goes on, so
  // no change is left half-done; without this, Node dies on EPIPE with a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const code = await run(argv, processIo());
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}
