// The plain-text email body of owner messages and run summaries: a heading, aligned fields, the
// lines, a footer. Pure.

export interface EmailInput {
  heading: string;
  /** Label (without the colon) and value, one per line. */
  fields: [label: string, value: string][];
  /** Width of `Label:` plus padding, so the values line up. */
  labelWidth: number;
  lines: string[];
  footer: string[];
}

/**
 * The email text.
 *
 * @example
 * emailText({ heading: 'imds-guard report', fields: [['Run', 'r1']], labelWidth: 6, lines: ['x'], footer: ['bye'] });
 * // => 'imds-guard report\n\nRun:  r1\n\nx\n\nbye'
 */
export function emailText(e: EmailInput): string {
  return [
    e.heading,
    '',
    ...e.fields.map(([label, value]) => `${`${label}:`.padEnd(e.labelWidth)}${value}`),
    '',
    ...e.lines,
    '',
    ...e.footer,
  ].join('\n');
}
