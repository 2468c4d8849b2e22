// `imds-guard doctor`: a read-only health check of one deployment (stack) in one account and Region.
import { type Command, Option } from 'commander';
import { evaluate } from '../../lib/runs/doctor/checks.js';
import { type DoctorClients, doctorClients, gatherFacts } from '../../lib/runs/doctor/read.js';
import { renderDoctor } from '../../lib/runs/doctor/render.js';
import { REGION_NAME } from '../../lib/domain/region.js';

export interface DoctorIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
}

interface DoctorOpts {
  stackName: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
  output: 'table' | 'json';
}

/** Tests may hand in their own clients (e.g. aws-sdk-client-mock for one service). */
export type ClientFactory = (o: { region: string; profile?: string; endpoint?: string }) => DoctorClients;

/**
 * Runs doctor once and returns the exit code: 0 healthy, 1 attention, 2 errors (or bad options).
 * @example const code = await doctor({ stackName: 'imds-guard-prod', region: 'eu-west-1', output: 'json' }, io);
 */
async function doctor(o: DoctorOpts, io: DoctorIo, clients: ClientFactory = doctorClients): Promise<number> {
  const usage = (s: string) => {
    io.stderr.write(`imds-guard: ${s}\n`);
    return 2;
  };
  const region = o.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (!region) return usage('doctor needs a Region: pass --region (or set AWS_REGION)');
  if (!REGION_NAME.test(region)) return usage(`--region: "${region}" is not a Region name (e.g. eu-west-1)`);
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(o.stackName)) return usage(`--stack-name: "${o.stackName}" is not a stack name`);
  const endpoint = o.endpointUrl ?? io.env.AWS_ENDPOINT_URL;
  if (endpoint && !URL.canParse(endpoint)) return usage(`--endpoint-url: "${endpoint}" is not a URL`);
  const profile = o.profile ?? io.env.AWS_PROFILE;
  const c = clients({ region, ...(profile ? { profile } : {}), ...(endpoint ? { endpoint } : {}) });
  const report = evaluate(await gatherFacts(c, o.stackName, region));
  io.stdout.write(renderDoctor(report, o.output));
  return report.exitCode;
}

/**
 * Registers `doctor` on the CLI program; `setCode` receives its exit code.
 * @example doctorCommand(program, io, (c) => (code = c));
 */
export function doctorCommand(program: Command, io: DoctorIo, setCode: (code: number) => void, clients?: ClientFactory): Command {
  return program
    .command('doctor')
    .description('check a deployment: CloudTrail trail, event rules, queues, sweep (read-only; exit 1 when something needs attention)')
    .option('--stack-name <name>', 'the stack (service-stage)', 'imds-guard-prod')
    .option('--region <region>', 'the Region to check (default: AWS_REGION)')
    .option('--profile <name>', 'AWS shared config profile')
    .option('--endpoint-url <url>', 'send every AWS call here (e.g. the local sandbox)')
    .addOption(new Option('--output <format>', 'stdout format').choices(['table', 'json']).default('table'))
    .action(async (o: DoctorOpts) => setCode(await doctor(o, io, clients)));
}
