// `imds-guard report --html`: one self-contained page (inline CSS and SVG, no script, no network) with the
// compliance per Region and per cluster, the trend from the audit store and what owners must act on. Pure:
// every string that comes from a record (tag-derived names, owners, reasons) goes through escapeHtml.
import type { AuditRecord } from '../domain/audit.js';
import { escapeHtml as h } from './escape.js';
import { type Bar, complianceBars, complianceTrend, ownerActions, type TrendPoint } from './html-data.js';

export interface HtmlReportInput {
  account: string;
  /** ISO time the page was made. */
  generatedAt: string;
  /** The current scan's records. */
  records: readonly AuditRecord[];
  /** Records read back from the audit store, and the table they came from; unset: no store configured. */
  history?: { table: string; records: readonly AuditRecord[] };
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1b1f24;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.totals{display:flex;gap:1rem}.totals div{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem}
.totals b{display:block;font-size:1.6rem}.ok{color:#1a7f37}.open{color:#cf222e}.exempt{color:#6e7781}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}
#owner-actions td:nth-child(2),#owner-actions td:nth-child(3){white-space:nowrap}
code{font:12px ui-monospace,monospace;word-break:break-all}.note{color:#57606a;font-style:italic}
svg text{font:12px system-ui,sans-serif}`;

const COLORS = { compliant: '#2da44e', open: '#cf222e', exempt: '#afb8c1' } as const;
const BAR_W = 520;
const LABEL_W = 220;

function barChart(kind: 'region' | 'cluster', bars: Bar[]): string {
  if (!bars.length) return `<p class="note">No ${kind === 'region' ? 'Region' : 'cluster'} has resources in scope.</p>`;
  const max = Math.max(...bars.map((b) => b.compliant + b.open + b.exempt), 1);
  const rows = bars.map((b, i) => {
    const y = i * 26;
    let x = LABEL_W;
    const parts = (['compliant', 'open', 'exempt'] as const).map((k) => {
      const w = (b[k] / max) * BAR_W;
      const at = `x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="18"`;
      const rect = b[k] ? `<rect ${at} fill="${COLORS[k]}"><title>${b[k]} ${k}</title></rect>` : '';
      x += w;
      return rect;
    });
    const counts = `${b.compliant} compliant, ${b.open} open, ${b.exempt} exempt`;
    return (
      `<g data-${kind}="${h(b.label)}" data-compliant="${b.compliant}" data-open="${b.open}" data-exempt="${b.exempt}">` +
      `<text x="0" y="${y + 17}">${h(b.label)}</text>${parts.join('')}<text x="${(x + 6).toFixed(1)}" y="${y + 17}">${counts}</text></g>`
    );
  });
  const height = bars.length * 26 + 4;
  return `<svg role="img" aria-label="${kind} compliance" width="${LABEL_W + BAR_W + 260}" height="${height}">${rows.join('')}</svg>`;
}

const pct = (p: TrendPoint) => (p.compliant + p.open ? (100 * p.compliant) / (p.compliant + p.open) : 100);

function trendChart(points: TrendPoint[]): string {
  const W = 760;
  const H = 180;
  const step = points.length > 1 ? W / (points.length - 1) : 0;
  const xy = points.map((p, i) => [40 + i * step, 10 + ((100 - pct(p)) / 100) * H] as const);
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const dots = xy.map(([x, y], i) => {
    const p = points[i] as TrendPoint;
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="#0969da"><title>${p.day}: ${pct(p).toFixed(0)}%</title></circle>`;
  });
  const axis =
    `<text x="0" y="16">100%</text><text x="0" y="${H + 14}">0%</text>` +
    `<line x1="38" y1="${H + 10}" x2="${W + 42}" y2="${H + 10}" stroke="#d0d7de"/>`;
  const poly = `<polyline points="${line}" fill="none" stroke="#0969da" stroke-width="2"/>`;
  return `<svg role="img" aria-label="compliance trend" width="${W + 60}" height="${H + 30}">${axis}${poly}${dots.join('')}</svg>`;
}

function trendTable(points: TrendPoint[]): string {
  const rows = points.map(
    (p) =>
      `<tr data-day="${h(p.day)}"><td>${h(p.day)}</td><td>${p.compliant}</td><td>${p.open}</td>` + `<td>${pct(p).toFixed(0)}%</td></tr>`,
  );
  return `<table><tr><th>Day (UTC)</th><th>Compliant</th><th>Open</th><th>Compliant share</th></tr>${rows.join('')}</table>`;
}

function trendSection(i: HtmlReportInput): string {
  const points = complianceTrend(i.history ? i.history.records : i.records);
  const note = i.history
    ? `From ${i.history.records.length} records in the audit store <code>${h(i.history.table)}</code>: ` +
      'each resource counted by its latest record up to each day.'
    : 'No audit store is configured (AUDIT_TABLE or --audit-table), so there is no history: the trend shows the current scan only.';
  const charts = points.length ? trendChart(points) + trendTable(points) : '';
  return `<h2>Compliance trend</h2><p class="note" id="trend-source">${note}</p>${charts}`;
}

function actionsSection(records: readonly AuditRecord[]): string {
  const actions = ownerActions(records);
  if (!actions.length) return '<h2>Owner must act</h2><p class="note">Nothing: imds-guard fixes every open item itself.</p>';
  const rows = actions.map(
    (a) =>
      `<tr data-owner-action="${h(a.id)}"><td>${h(a.owner)}</td><td>${h(a.region)}</td><td>${h(a.type)}</td>` +
      `<td><code>${h(a.id)}</code></td>` +
      `<td>${h(a.cluster ?? '-')}</td><td>${h(a.outcome)}</td><td>${h(a.why)}</td></tr>`,
  );
  return (
    `<h2>Owner must act (${actions.length})</h2><table id="owner-actions">` +
    '<tr><th>Owner</th><th>Region</th><th>Type</th><th>Resource</th>' +
    `<th>Cluster</th><th>Outcome</th><th>What to do</th></tr>${rows.join('')}</table>`
  );
}

/**
 * The whole page.
 * @example
 * const page = renderHtmlReport({ account: '111122223333', generatedAt: new Date().toISOString(), records });
 */
export function renderHtmlReport(i: HtmlReportInput): string {
  const { regions, clusters } = complianceBars(i.records);
  const sum = (k: keyof Omit<Bar, 'label'>) => regions.reduce((n, b) => n + b[k], 0);
  const totals =
    `<div class="totals"><div class="ok" id="total-compliant"><b>${sum('compliant')}</b>compliant</div>` +
    `<div class="open" id="total-open"><b>${sum('open')}</b>open</div>` +
    `<div class="exempt" id="total-exempt"><b>${sum('exempt')}</b>exempt</div></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>imds-guard report: account ${h(i.account)}</title><style>${CSS}</style></head>
<body><h1>imds-guard report: account ${h(i.account)}</h1>
<p class="note">Generated ${h(i.generatedAt)} from ${i.records.length} audit records.</p>
${totals}
<h2>Per Region</h2>${barChart('region', regions)}
<h2>Per cluster</h2>${barChart('cluster', clusters)}
${trendSection(i)}
${actionsSection(i.records)}
</body></html>
`;
}
