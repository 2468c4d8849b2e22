// Where the CLI reads and writes: the process's streams by default, captured buffers in tests.
import { createInterface } from 'node:readline/promises';

export interface CliIo {
  stdout: { write(chunk: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  /** stdin and stderr are terminals: enforce may ask before changing anything. */
  interactive: boolean;
  /** Where configuration (MAX_HOP_LIMIT, EXEMPT_*, …) and the home Region are read from. */
  env: Record<string, string | undefined>;
  /** Lines for stderr before the first AWS call unless --quiet (main(): the Node version notice). */
  notices?: string[];
  /** Ask a yes/no question; default: readline on stdin/stderr. */
  prompt?: (question: string) => Promise<string>;
}

/**
 * The real process's streams, environment and a readline prompt.
 * @example
 * const code = await run(['scan', '--regions', 'eu-west-1'], processIo());
 */
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
