// imds-guard CLI: scan, enforce, revert, account-defaults, doctor. `run(argv, io)` returns the exit code and
// never calls process.exit, so tests run it in-process; `main()` is the process entry point.
// Each command lives in cli/commands/; this file defines the program and maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../lib/shell/config.js';
import { registerAccountDefaults } from './commands/account-defaults.js';
import { doctorCommand } from './commands/doctor.js';
import { registerEnforce } from './commands/enforce.js';
import { registerReport } from './commands/report.js';
import { registerRevert } from './commands/revert.js';
import { registerScan } from './commands/scan.js';
import { type CommandContext, commandContext } from './context.js';
import { explain, UsageError } from './errors.js';
import { type CliIo, processIo } from './io.js';
import { takeNodeNotice } from './node-version.js';

export type { CliIo } from './io.js';

const registerDoctor = (p: Command, ctx: CommandContext, done: (code: number) => void) => void doctorCommand(p, ctx.io, done);
const COMMANDS = [registerScan, registerEnforce, registerRevert, registerAccountDefaults, registerDoctor, registerReport];

function program(ctx: CommandContext, done: (code: number) => void): Command {
  const { io } = ctx;
  const p = new Command('imds-guard')
    .description('Find and fix EC2 instances, launch templates and EKS node groups that allow IMDSv1 or pass IMDS tokens to pods.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      '\nExit codes: 0 nothing left to fix, 1 violations remain (or changes failed), 2 errors (bad arguments, credentials, API failures).',
    );
  for (const register of COMMANDS) register(p, ctx, done);
  return p;
}

const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/**
 * Run the CLI over `io` and return its exit code (0 clean, 1 violations or failed changes, 2 errors).
 * @example
 * const code = await run(['scan', '--regions', 'eu-west-1', '--output', 'json'], io);
 */
export async function run(argv: string[], io: CliIo = processIo()): Promise<number> {
  const saved = { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL, AWS_PROFILE: process.env.AWS_PROFILE };
  const ctx = commandContext(io);
  let code = 2;
  try {
    await program(ctx, (c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    // Help and version exit 0; any usage mistake is a 2 (commander already printed it).
    if (err instanceof CommanderError) return HELP_CODES.has(err.code) ? 0 : 2;
    if (err instanceof UsageError || err instanceof ConfigError) ctx.errLine(err.message);
    else ctx.errLine(explain(err, ctx.endpoint));
    return 2;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const flush = (s: NodeJS.WriteStream) => new Promise<void>((r) => s.write('', () => r()));

/**
 * Process entry point: exit with run()'s code once stdout has drained.
 * @example
 * await main(['scan', '--regions', 'eu-west-1']);
 */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  // On Node < 22 one line says what the SDK's nine-line notice says (which this turns off; Lambda runs 22).
  const notice = takeNodeNotice(process.version, process.env);
  // `imds-guard enforce | head`: once the reader leaves, output is dropped but the run goes on, so
  // no change is left half-done; without this, Node dies on EPIPE with a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const code = await run(argv, { ...processIo(), ...(notice ? { notices: [notice] } : {}) });
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}
