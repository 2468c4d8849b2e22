// The stack's CloudWatch dashboard only charts what the code emits: every ImdsGuard metric name is one an
// addMetric call in lib/ emits, with the dimension Powertools adds (service), and the log queries read fields
// and messages the functions actually log.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packagedTemplate } from '../helpers/template.js';

const ROOT = join(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

/** Metric names passed to addMetric in lib/, literals or module constants. */
function emittedMetrics(): Set<string> {
  const out = new Set<string>();
  for (const src of sources('lib')) {
    for (const m of src.matchAll(/addMetric\(\s*(?:'([^']+)'|([A-Z_][A-Z0-9_]*))/g)) {
      if (m[1]) out.add(m[1]);
      else if (m[2]) {
        const v = new RegExp(`const ${m[2]} = '([^']+)'`).exec(src)?.[1];
        if (v) out.add(v);
      }
    }
  }
  return out;
}

interface Widget {
  type: 'metric' | 'log';
  properties: { title: string; metrics?: (string | Record<string, unknown>)[][]; query?: string };
}

let body: { widgets: Widget[] };
let refs: string[];
let template: any;
beforeAll(() => {
  template = packagedTemplate();
  const sub = template.Resources.Dashboard.Properties.DashboardBody['Fn::Sub'] as string;
  refs = [...sub.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!);
  body = JSON.parse(sub.replace(/\$\{[^}]+\}/g, 'X'));
}, 180_000);

describe('the dashboard', () => {
  it('charts only metric names the code emits, with the service dimension Powertools sets', () => {
    const emitted = emittedMetrics();
    expect(emitted).toContain('remediated');
    const ours = body.widgets.flatMap((w) => w.properties.metrics ?? []).filter((m) => m[0] === 'ImdsGuard');
    expect(ours.map((m) => m[1]).sort()).toEqual(['failures', 'remediated', 'sweepMissedByEvents', 'violations']);
    for (const m of ours) {
      expect(emitted, String(m[1])).toContain(m[1]);
      expect(m.slice(2, 4)).toEqual(['service', 'imds-guard']);
    }
    const obs = readFileSync(join(ROOT, 'lib/shell/observability.ts'), 'utf8');
    expect(obs).toMatch(/namespace: process\.env\.POWERTOOLS_METRICS_NAMESPACE \?\? 'ImdsGuard', serviceName: 'imds-guard'/);
  });

  it('queue depth of the remediation queue and both dead-letter queues; every reference is a resource of the stack', () => {
    const sqs = body.widgets.flatMap((w) => w.properties.metrics ?? []).filter((m) => m[0] === 'AWS/SQS');
    expect(sqs).toHaveLength(3);
    for (const r of refs.filter((x) => !x.startsWith('AWS::'))) expect(template.Resources[r.split('.')[0]!], r).toBeDefined();
    expect(refs).toEqual(
      expect.arrayContaining(['RemediationQueue.QueueName', 'RemediationDeadLetterQueue.QueueName', 'BackfillLogGroup']),
    );
  });

  it('the log queries read what the functions log: { audit: record } lines and the backfill region messages', () => {
    const queries = body.widgets.flatMap((w) => (w.properties.query ? [w.properties.query] : []));
    const all = sources('lib').join('\n');
    expect(queries.join('\n')).toMatch(/audit\.resource\.region/);
    expect(readFileSync(join(ROOT, 'lib/shell/observability.ts'), 'utf8')).toMatch(/const line = \{ audit: r \}/);
    for (const q of queries) for (const [, msg] of q.matchAll(/message = '([^']+)'/g)) expect(all).toContain(`'${msg}'`);
  });
});
