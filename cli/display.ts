// How stdout is shown: its width, whether to colour, --quiet. Decided once per run from the stream and
// the environment (NO_COLOR, FORCE_COLOR, COLUMNS), so the renderers stay pure.
import pc from 'picocolors';

type Colors = ReturnType<typeof pc.createColors>;

export interface Display {
  /** Columns a table may use. */
  width: number;
  /** picocolors, enabled or a no-op set. */
  color: Colors;
  /** Only errors and the final line. */
  quiet: boolean;
}

/** Width when stdout is not a terminal and COLUMNS is unset (a log, a pipe, CI): the usual table keeps one line per row. */
const FALLBACK_WIDTH = 200;

interface Stream {
  isTTY?: boolean;
  columns?: number;
}

/**
 * Whether to colour: NO_COLOR (any non-empty value) wins, then FORCE_COLOR (not "0"), then a terminal that is not "dumb".
 * @example
 * colorEnabled({ isTTY: true }, { NO_COLOR: '1' }); // false
 */
export function colorEnabled(out: Stream, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return !!out.isTTY && env.TERM !== 'dumb';
}

/**
 * The display for a stream: a terminal's own width, else COLUMNS, else FALLBACK_WIDTH.
 * @example
 * displayFor({ isTTY: true, columns: 100 }, {}, false).width; // 100
 */
export function displayFor(out: Stream, env: Record<string, string | undefined>, quiet: boolean): Display {
  const fromEnv = Number(env.COLUMNS);
  const width = out.isTTY && out.columns ? out.columns : Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : FALLBACK_WIDTH;
  return { width: Math.max(40, width), color: pc.createColors(colorEnabled(out, env)), quiet };
}

/** No colour, the fallback width: what the pure renderers use when nobody says otherwise. */
export const PLAIN: Display = { width: FALLBACK_WIDTH, color: pc.createColors(false), quiet: false };

const OUTCOME_COLOR: Record<string, 'green' | 'yellow' | 'magenta' | 'red' | 'dim'> = {
  remediated: 'green',
  compliant: 'green',
  'would-remediate': 'yellow',
  reported: 'magenta',
  failed: 'red',
  reverted: 'red',
  exempt: 'dim',
};

/**
 * An outcome in its colour (a no-op without colour).
 * @example
 * paintOutcome(PLAIN, 'failed'); // 'failed'
 */
export function paintOutcome(d: Display, outcome: string): string {
  const c = OUTCOME_COLOR[outcome];
  return c ? d.color[c](outcome) : outcome;
}
