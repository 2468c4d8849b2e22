// Width-aware tables (cli-table3) for the CLI. A table that does not fit wraps its last column; the commands
// a row tells the user to run never wrap: they are lifted out of the cell and printed whole below the table.
import { stripVTControlCharacters } from 'node:util';
import Table from 'cli-table3';
import type { Display } from './display.js';

const GAP = '  ';
/** Narrowest a wrapped column may get before the table switches to one block per row. */
const MIN_WRAP = 24;

const VERBS = '(?:scan|enforce|revert|account-defaults|doctor|report)';
const COMMAND = new RegExp(`(?<=^|[\\s\`(])(?:aws [a-z0-9-]+ [a-z0-9]+(?:-[a-z0-9]+)+|imds-guard ${VERBS}\\b)(?: [^\\s\`;]+)*`, 'g');

/**
 * The shell commands in a sentence (`aws <service> <verb-noun> …`, `imds-guard <command> …`), whole.
 * @example
 * commandsIn('run imds-guard account-defaults --apply'); // ['imds-guard account-defaults --apply']
 */
export function commandsIn(text: string): string[] {
  return [...text.matchAll(COMMAND)].map((m) => m[0].replace(/[.,)]+$/, ''));
}

/**
 * Replace each command in column `col` by a `[n]` marker; returns the rows and the numbered commands.
 * @example
 * liftCommands([['REASON'], ['Run: aws eks update-nodegroup-version --x 1']], 0).commands; // ['aws eks update-nodegroup-version --x 1']
 */
export function liftCommands(rows: string[][], col: number): { rows: string[][]; commands: string[] } {
  const commands: string[] = [];
  const out = rows.map((row, i) => {
    if (i === 0) return row;
    let cell = row[col] ?? '';
    for (const c of commandsIn(cell)) {
      commands.push(c);
      cell = cell.replace(c, `[${commands.length}]`);
    }
    return row.map((v, j) => (j === col ? cell : v));
  });
  return { rows: out, commands };
}

/** The lifted commands, one per line, never wrapped (a terminal may fold them; a copy still works). */
export function commandLines(commands: string[], d: Display): string[] {
  if (!commands.length) return [];
  return ['', d.color.bold('Commands (copy as they are):'), ...commands.map((c, i) => `  [${i + 1}] ${d.color.cyan(c)}`)];
}

const visible = (s: string) => stripVTControlCharacters(s).length;

const PLAIN_CHARS = Object.fromEntries(
  ['top', 'top-mid', 'top-left', 'top-right', 'bottom', 'bottom-mid', 'bottom-left', 'bottom-right']
    .concat(['left', 'left-mid', 'mid', 'mid-mid', 'right', 'right-mid'])
    .map((k) => [k, '']),
);

function stacked(d: Display, rows: string[][]): string {
  const [header, ...body] = rows as [string[], ...string[][]];
  const label = Math.max(...header.map((h) => h.length));
  const field = (cell: string, c: number) =>
    `  ${(header[c] ?? '').toLowerCase().padEnd(label)}  ${wrapText(cell, d.width - label - 4, label + 4)}`;
  // One block per row: the first cell alone, then every other non-empty cell under its column name.
  return body
    .map((r) => [r[0] ?? '', ...r.flatMap((cell, c) => (c === 0 || cell === '-' || cell === '' ? [] : [field(cell, c)]))].join('\n'))
    .join('\n\n');
}

function wrapText(s: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of s.split(' ')) {
    if (line && visible(line) + 1 + visible(word) > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/**
 * Columns sized to their content within `d.width`: when too wide, the last column wraps on words; when even
 * that leaves it under 24 columns, one block per row. The header row sets the columns and is bold.
 * @example
 * grid({ ...PLAIN, width: 80 }, [['A', 'B'], ['1', 'long text']]); // 'A  B\n1  long text'
 */
export function grid(d: Display, rows: [header: string[], ...body: string[][]]): string {
  const n = rows[0].length;
  const natural = rows[0].map((_, c) => Math.max(...rows.map((r) => visible(r[c] ?? ''))));
  const fixed = natural.slice(0, -1).reduce((a, b) => a + b, 0) + GAP.length * (n - 1);
  const last = Math.min(natural[n - 1] ?? 0, d.width - fixed);
  if (last < Math.min(MIN_WRAP, natural[n - 1] ?? 0)) return stacked(d, rows);
  const t = new Table({
    chars: { ...PLAIN_CHARS, middle: GAP },
    style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [] },
    colWidths: [...natural.slice(0, -1), Math.max(1, last)],
    wordWrap: true,
    wrapOnWordBoundary: true,
  });
  t.push(
    rows[0].map((h) => d.color.bold(h)),
    ...rows.slice(1),
  );
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}
