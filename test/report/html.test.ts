// The HTML report renderer: pure, escaped, and its numbers come from the records.
import { describe, expect, it } from 'vitest';
import { type AuditRecord, buildRecord } from '../../lib/domain/audit.js';
import { renderHtmlReport } from '../../lib/report/html.js';
import { complianceBars, complianceTrend, ownerActions } from '../../lib/report/html-data.js';
import { instanceResource } from '../helpers/records.js';

function rec(id: string, outcome: AuditRecord['outcome'], time: string, extra: { owner?: string; cluster?: string; reason?: string } = {}) {
  const trigger = {
    source: 'cli' as const,
    eventName: 'Scan',
    eventId: 'run-1',
    eventTime: time,
    actor: 'a',
    region: 'eu-west-1',
    account: '111122223333',
  };
  const resource = instanceResource(id, { owner: extra.owner ?? 'team', ...(extra.cluster ? { cluster: extra.cluster } : {}) });
  return buildRecord({ trigger, mode: 'dry-run', time, resource, outcome, ...(extra.reason ? { reason: extra.reason } : {}) });
}

const T1 = '2026-11-29T10:00:00.000Z';
const T2 = '2026-11-30T10:00:00.000Z';

describe('report data', () => {
  it('bars per Region and per cluster count compliant, open and exempt', () => {
    const rs = [
      rec('i-1', 'compliant', T1, { cluster: 'a' }),
      rec('i-2', 'would-remediate', T1, { cluster: 'a' }),
      rec('i-3', 'exempt', T1),
    ];
    expect(complianceBars(rs)).toEqual({
      regions: [{ label: 'eu-west-1', compliant: 1, open: 1, exempt: 1 }],
      clusters: [{ label: 'eu-west-1/a', compliant: 1, open: 1, exempt: 0 }],
    });
  });

  it('the trend counts each resource by its latest record up to each day', () => {
    const rs = [rec('i-1', 'would-remediate', T1), rec('i-2', 'would-remediate', T1), rec('i-1', 'remediated', T2)];
    expect(complianceTrend(rs)).toEqual([
      { day: '2026-11-29', compliant: 0, open: 2 },
      { day: '2026-11-30', compliant: 1, open: 1 },
    ]);
  });

  it('owner must act: reported, failed and reverted, not what imds-guard fixes itself', () => {
    const rs = [rec('i-1', 'reported', T1, { owner: 'b' }), rec('i-2', 'would-remediate', T1), rec('i-3', 'failed', T1, { owner: 'a' })];
    expect(ownerActions(rs).map((a) => [a.owner, a.id])).toEqual([
      ['a', 'i-3'],
      ['b', 'i-1'],
    ]);
  });
});

describe('renderHtmlReport', () => {
  it('escapes every record-derived string and makes no network reference', () => {
    const evil = '<img src=x onerror="alert(1)">';
    const page = renderHtmlReport({
      account: '111122223333',
      generatedAt: T2,
      records: [rec('i-1', 'reported', T1, { owner: evil, cluster: evil, reason: `see https://evil.example ${evil}` })],
    });
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).not.toMatch(/<script|<link|@import|url\(/i);
  });

  it('says when there is no audit store, and names the store when there is one', () => {
    const records = [rec('i-1', 'compliant', T2)];
    expect(renderHtmlReport({ account: '1', generatedAt: T2, records })).toMatch(/No audit store is configured[^<]*current scan only/);
    const withStore = renderHtmlReport({
      account: '1',
      generatedAt: T2,
      records,
      history: { table: 'audit', records: [rec('i-1', 'failed', T1)] },
    });
    expect(withStore).toMatch(/From 1 records in the audit store <code>audit<\/code>/);
    expect(withStore).toContain('data-day="2026-11-29"');
  });
});
