// Run the CLI in-process against a sandbox, capturing stdout/stderr.
import { run, type CliIo } from '../../cli/main.js';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
  json<T = CliJson>(): T;
}

interface CliJson {
  schema: string;
  command: string;
  mode: 'enforce' | 'dry-run';
  exitCode: number;
  declined?: boolean;
  counts: Record<string, number>;
  regions: { region: string; counts: Record<string, number>; identity: unknown[]; error?: { name: string } }[];
  skipped?: { id: string; reason: string }[];
  records: {
    resource: { type: string; id: string; region: string; cluster?: string; owner: string };
    outcome: string;
    before?: Record<string, unknown>;
    after?: Record<string, unknown>;
    trigger: { source: string; eventName: string; eventId: string; actor: string; account: string };
  }[];
}

export interface IoOptions {
  interactive?: boolean;
  tty?: boolean;
  answer?: string;
  env?: Record<string, string | undefined>;
}

export async function cli(argv: string[], o: IoOptions = {}): Promise<Captured & { prompts: string[] }> {
  let stdout = '';
  let stderr = '';
  const prompts: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: !!o.tty, ...(o.tty ? { columns: 120 } : {}) } as CliIo['stderr'],
    interactive: !!o.interactive,
    env: { ...process.env, IDENTITY_GATE: 'warn', ...o.env },
    prompt: async (q) => {
      prompts.push(q);
      return o.answer ?? 'n';
    },
  };
  const code = await run(argv, io);
  return { code, stdout, stderr, prompts, json: <T>() => JSON.parse(stdout) as T };
}
