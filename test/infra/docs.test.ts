import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readRepoFile, repoPath } from './repo.js';

const DOCS = ['docs/defense-in-depth.md', 'infra/guardrails/README.md', 'infra/kubernetes/README.md', 'infra/node-bootstrap/README.md'];

/** Rows of the first Markdown table after `heading`, as trimmed cells. */
function tableAfter(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading);
  expect(start, `heading ${heading}`).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    if (/^\|[\s|:-]+\|$/.test(line)) continue; // separator row
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

describe('docs/defense-in-depth.md', () => {
  const [header, ...rows] = tableAfter(readRepoFile('docs/defense-in-depth.md'), '## Layers of defence');

  it('has the agreed columns', () => {
    expect(header).toEqual(['layer', 'what it stops', 'what it misses', 'how imds-guard covers it']);
  });

  it('has one row per layer, in order, with every cell filled', () => {
    const layers = [
      'Launch-time MetadataOptions',
      'Account defaults',
      'SCP / declarative policy',
      'imds-guard remediation',
      'Node iptables rule',
      'NetworkPolicy',
      'ValidatingAdmissionPolicy',
      'IRSA / EKS Pod Identity',
    ];
    expect(rows).toHaveLength(layers.length);
    rows.forEach((row, i) => {
      expect(row[0]).toContain(layers[i]);
      expect(row).toHaveLength(4);
      for (const cell of row) expect(cell.length).toBeGreaterThan(10);
    });
  });

  it('states the limits that matter', () => {
    const text = readRepoFile('docs/defense-in-depth.md');
    expect(text).toMatch(/hostNetwork[^\n]*bypasses the\s+hop limit/);
    expect(text).toMatch(/Existing instances are not fixed/);
    expect(text).toMatch(/Node iptables rule[^\n]*\*\*`hostNetwork` pods\*\*/);
  });
});

describe('repository paths named in the infra docs exist', () => {
  it.each(DOCS)('%s', (doc) => {
    const text = readRepoFile(doc);
    const paths = [...text.matchAll(/`((?:infra|test|docs)\/[A-Za-z0-9_./-]+)`/g)].map((m) => m[1] ?? '');
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(existsSync(repoPath(path)), path).toBe(true);
  });
});

describe('service-linked roles and the SCP (issue 17 item 5)', () => {
  const files = ['README.md', 'docs/defense-in-depth.md', 'infra/guardrails/README.md'];

  it.each(files)('%s no longer calls the service-linked-role question unverified', (file) => {
    const text = readRepoFile(file).replace(/\s+/g, ' ');
    expect(text).not.toMatch(/Unverified:?_?:? whether Auto Scaling's service-linked role/i);
    expect(text).not.toMatch(/service-linked role versus SCP question/i);
  });

  it.each(files)('%s states that SCPs do not affect service-linked roles, and what that means', (file) => {
    const text = readRepoFile(file).replace(/\s+/g, ' ');
    expect(text).toMatch(/SCPs do not affect (any )?service-linked roles?/);
    expect(text).toContain('AWSServiceRoleForAutoScaling');
    expect(text).toMatch(/remediation is the layer that catches Auto Scaling launches/i);
    expect(text).toMatch(/Karpenter's (own |controller )?role is restricted|Karpenter[^.]*controller role[^.]*restrict/);
  });

  it('the guardrails README cites the AWS Organizations SCPs page', () => {
    expect(readRepoFile('infra/guardrails/README.md')).toContain(
      'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html',
    );
  });

  it('docs/security.md lists each issue-17 attack with a control and a residual risk', () => {
    const text = readRepoFile('docs/security.md');
    const section = text.slice(text.indexOf('### Attacks from inside the account'), text.indexOf('## Permissions'));
    const entries = section.split(/\n(?=\d\. \*\*)/).slice(1);
    expect(entries.map((e) => /^\d\. \*\*([^*]+)\*\*/.exec(e)?.[1])).toEqual([
      'Loop-guard bypass by name.',
      'The exempt tag.',
      'Forged audit messages.',
      'Tag text in chat and email.',
      'The docs gap.',
      'Inputs that throw after the fix.',
    ]);
    for (const e of entries) {
      expect(e).toMatch(/_Control/);
      expect(e).toMatch(/_Residual:_/);
    }
  });
});
