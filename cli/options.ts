// Option parsers and the option sets shared by several commands.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { REGION_NAME } from '../lib/domain/region.js';
import { unknownRegion } from './regions.js';
import type { OutputFormat } from './format.js';

/**
 * Commander accumulator for a repeatable comma list.
 * @example
 * list('a, b', ['x']); // ['x', 'a', 'b']
 */
export function list(v: string, prev: string[] = []): string[] {
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
  for (const r of out) {
    const why = unknownRegion(r);
    if (why) throw new InvalidArgumentError(why);
  }
  if (!out.length) throw new InvalidArgumentError('give at least one Region');
  return [...new Set(out)];
}

/**
 * Commander parser for an integer in [lo, hi].
 * @example
 * intIn(1, 64)('2'); // 2
 */
export const intIn = (lo: number, hi: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected an integer from ${lo} to ${hi}`);
  return n;
};

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export interface ConnectionOpts {
  regions?: string[];
  profile?: string;
  endpointUrl?: string;
  concurrency?: number;
  output: OutputFormat;
  out?: string;
  rateScale?: number;
  quiet?: boolean;
}

/** Org-wide runs: which member accounts, and the role to assume in each. */
export interface AccountOpts {
  accounts?: string;
  org?: boolean;
  ou?: string;
  roleName?: string;
}

export interface ScanOpts extends ConnectionOpts, AccountOpts {
  scope?: 'eks' | 'all';
  cluster: string[];
  maxHopLimit?: number;
  identityGate?: 'warn' | 'hold' | 'off';
  query: 'inventory' | 'violations';
  all?: boolean;
  /** Send the records to Security Hub (findings out). */
  securityHub?: boolean;
}

/** What a command that may change something takes. */
export interface ConfirmOpts {
  yes?: boolean;
  dryRun?: boolean;
}

/**
 * Where to connect and how to write results: every command takes these.
 * @example
 * connection(program.command('revert')).option('--audit <file>', '…');
 */
export function connection(cmd: Command): Command {
  return cmd
    .option('--regions <list>', 'comma-separated Regions (default: every enabled Region, from DescribeRegions)', regionList)
    .option('--profile <name>', 'AWS shared config profile')
    .option('--endpoint-url <url>', 'send every AWS call here (e.g. the local sandbox)')
    .option('--concurrency <n>', 'parallel calls per Region (the rate limiter still paces them)', intIn(1, 100))
    .addOption(new Option('--output <format>', 'stdout format').choices(['table', 'json', 'csv', 'ocsf']).default('table'))
    .option('--out <file>', 'write the full audit as JSON Lines (what revert --audit reads)')
    .option('--quiet', 'print only errors and the final line (json and csv output are unchanged)')
    .addOption(
      new Option('--rate-scale <factor>', 'multiply the EC2 bucket refill rates (sandbox benchmarks only)').argParser(positive).hideHelp(),
    );
}

/**
 * The connection options plus what scan and enforce look at.
 * @example
 * scanning(program.command('scan')).action(…);
 */
export function scanning(cmd: Command): Command {
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
    .option('--all', 'table: also list compliant and out-of-scope resources')
    .option('--security-hub', "also send every record to Security Hub as the account's own ASFF findings (BatchImportFindings)")
    .option('--accounts <list>', 'run in these member accounts (comma-separated ids), through --role-name')
    .option('--org', 'run in every active account of the organization (Organizations ListAccounts)')
    .option('--ou <id>', 'run in the active accounts of this OU and its child OUs (ou-… or r-…)')
    .option('--role-name <name>', 'the member role to assume in each account (default: MEMBER_ROLE_NAME or imds-guard-member)');
}
