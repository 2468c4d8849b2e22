// `imds-guard report --html` on the demo estate, opened in headless Chromium (Debian's `chromium` package,
// driven by playwright-core): the page shows the scan's numbers, and a screenshot of it is a real PNG.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lib/domain/audit.js';
import { auditStoreFor, keepRecords } from '../../lib/shell/audit-store.js';
import { loadConfig } from '../../lib/shell/config.js';
import { seedDemo } from '../../sandbox/scenarios/demo.js';
import type { Sandbox } from '../../sandbox/server.js';
import { createAuditTable, startTestSandbox } from '../helpers/sandbox.js';
import { cli } from './helpers.js';

const R = 'eu-west-1';
let sb: Sandbox;
let dir: string;

function chromiumPath(): string | undefined {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
const CHROMIUM = chromiumPath();
if (!CHROMIUM) console.warn('report.test.ts: the browser test is skipped: no `chromium` on PATH (Debian: apt-get install chromium)');

beforeAll(async () => {
  sb = await startTestSandbox();
  await seedDemo({ endpoint: sb.url, region: R });
  dir = mkdtempSync(join(tmpdir(), 'imds-guard-report-'));
});
afterAll(() => sb.close());
const at = () => ['--endpoint-url', sb.url];

describe('imds-guard report --html', () => {
  it.skipIf(!CHROMIUM)(
    'opens in headless Chromium and shows the demo estate numbers; the screenshot is a real PNG',
    async () => {
      const scan = (await cli(['scan', '--regions', R, '--output', 'json', ...at()])).json();
      const file = join(dir, 'report.html');
      const r = await cli(['report', '--regions', R, '--html', file, ...at()]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/no audit store: trend from this scan only/);
      const browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const requests: string[] = [];
        page.on('request', (q) => requests.push(q.url()));
        await page.goto(pathToFileURL(file).href);
        const c = scan.counts;
        const open = (c['would-remediate'] ?? 0) + (c.reported ?? 0) + (c.failed ?? 0);
        const g = page.locator(`g[data-region="${R}"]`);
        expect(Number(await g.getAttribute('data-open'))).toBe(open);
        expect(Number(await g.getAttribute('data-compliant'))).toBe((c.compliant ?? 0) + (c.remediated ?? 0));
        expect(Number(await g.getAttribute('data-exempt'))).toBe(c.exempt ?? 0);
        expect(await page.locator('#total-open b').textContent()).toBe(String(open));
        expect(await page.locator('g[data-cluster]').count()).toBe(2); // payments, analytics
        expect(await page.locator('#trend-source').textContent()).toMatch(/No audit store is configured/);
        const reported = scan.records.filter((x) => x.outcome === 'reported');
        expect(await page.locator('#owner-actions tr[data-owner-action]').count()).toBe(reported.length);
        expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
        const png = await page.screenshot({ fullPage: true });
        expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        expect(png.readUInt32BE(16)).toBe(1200); // IHDR width
        expect(png.length).toBeGreaterThan(20_000); // a drawn page, not a blank one
      } finally {
        await browser.close();
      }
    },
    60_000,
  );

  it('with an audit store: the trend has one point per day of history', async () => {
    await createAuditTable(sb.url, R, 'audit');
    const scan = (await cli(['scan', '--regions', R, '--output', 'json', ...at()])).json<{ records: AuditRecord[] }>();
    // Two earlier days of history: the same resources, recorded by two earlier runs.
    const day = (d: string) =>
      scan.records.map((x) => ({ ...x, id: `${x.id}-${d}`, time: `${d}T12:00:00.000Z`, trigger: { ...x.trigger, eventId: `run-${d}` } }));
    process.env.AWS_ENDPOINT_URL = sb.url;
    try {
      await keepRecords(auditStoreFor(loadConfig({ AUDIT_TABLE: 'audit' }), R), [...day('2026-11-28'), ...day('2026-11-29')]);
    } finally {
      delete process.env.AWS_ENDPOINT_URL;
    }
    const file = join(dir, 'trend.html');
    const r = await cli(['report', '--regions', R, '--html', file, '--audit-table', 'audit', '--since', '2026-11-01T00:00:00Z', ...at()]);
    expect(r.code).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/in the audit store <code>audit<\/code>/);
    expect(html.match(/data-day="/g)).toHaveLength(2);
  });
});
