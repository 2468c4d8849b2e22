// Issue 15: every revert command imds-guard prints runs as printed. The demo estate is enforced through the CLI
// (records kept in the sandbox's audit store); each revert command is extracted from the real renderings (the
// CLI summary, the email and chat bodies of the owner messages, the Slack post), run through the real CLI entry,
// and must put the instances it names back to the "before" the audit recorded. Then: scan after enforce exits 1
// and names what is left and who must act.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lib/domain/audit.js';
import { renderOwnerMessages } from '../../lib/report/message.js';
import { renderSlackMessage } from '../../lib/report/slack/blocks.js';
import type { UndoContext } from '../../lib/report/undo.js';
import { seedDemo, type DemoInfo } from '../../sandbox/scenarios/demo.js';
import type { Sandbox } from '../../sandbox/server.js';
import { cli } from '../cli/helpers.js';
import { createAuditTable, startTestSandbox } from '../helpers/sandbox.js';

const R = 'eu-west-1';
const TABLE = 'imds-guard-test-audit';
let sb: Sandbox;
let demo: DemoInfo;
let dir: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  sb = await startTestSandbox();
  dir = mkdtempSync(join(tmpdir(), 'imds-guard-undo-'));
  for (const k of ['AWS_ENDPOINT_URL', 'AWS_REGION']) saved[k] = process.env[k];
  // What the person running a printed command has: credentials and a Region pointing at the account.
  process.env.AWS_ENDPOINT_URL = sb.url;
  process.env.AWS_REGION = R;
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  await sb.close();
});
beforeEach(async () => {
  sb.reset();
  demo = await seedDemo({ endpoint: sb.url, region: R });
  await createAuditTable(sb.url, R, TABLE);
});

type Options = { HttpTokens?: string; HttpPutResponseHopLimit?: number; HttpEndpoint?: string };
const metadata = (): Record<string, Options> =>
  Object.fromEntries([...sb.state.region(R).instances.values()].map((i) => [i.id, { ...i.metadata }]));

/** Every `imds-guard revert …` command in a rendering (inline code or plain text). */
function commandsIn(text: string): string[] {
  return [...text.matchAll(/imds-guard revert [^`\n"\\]+/g)].map((m) => m[0].trim().replace(/[).,]+$/, ''));
}

/** What owners would read: the email and chat bodies of each SNS message, and the Slack post notify-slack makes. */
function renderings(records: AuditRecord[], undo: UndoContext): Record<string, string> {
  const published = records.filter((r) => !['compliant', 'out-of-scope'].includes(r.outcome));
  const messages = renderOwnerMessages(published, undo);
  const bodies = messages.map((m) => JSON.parse(m.message) as { email: string; https: string });
  const slack = messages.map((m) => JSON.stringify(renderSlackMessage(m.records, m.owner, undo)));
  return {
    email: bodies.map((b) => b.email).join('\n'),
    chatbot: bodies.map((b) => JSON.parse(b.https).content.nextSteps.join('\n')).join('\n'),
    slack: slack
      .map((s) =>
        JSON.parse(s)
          .blocks.flatMap((b: any) => b.elements?.map((e: any) => e.text) ?? [])
          .join('\n'),
      )
      .join('\n'),
  };
}

/** The instances a printed command acts on, by reading its own arguments or (for a whole run) the audit. */
function scopeOf(argv: string[], remediated: string[]): string[] {
  const i = argv.indexOf('--instances');
  return i >= 0 ? argv[i + 1]!.split(',') : remediated;
}

describe('printed revert commands run as printed', () => {
  it('from the CLI summary, the email, the chat notification and the Slack post, with and without the audit store', async () => {
    const original = metadata();
    const out = join(dir, 'enforce.jsonl');
    const env = { AUDIT_TABLE: TABLE, AWS_REGION: R };
    const noStore = await cli(['enforce', '--yes', '--regions', R], { env: { AWS_REGION: R, AUDIT_TABLE: '' } });
    expect(noStore.code).toBe(0);
    const summaryWithoutStore = commandsIn(noStore.stdout);
    // Back to the seeded state, then enforce again keeping the records (the store, and --out).
    sb.reset();
    demo = await seedDemo({ endpoint: sb.url, region: R });
    await createAuditTable(sb.url, R, TABLE);
    const stored = await cli(['enforce', '--yes', '--regions', R, '--out', out], { env });
    expect(stored.code).toBe(0);
    const records = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    expect(sb.dynamodb.items(TABLE, R)).toHaveLength(records.length);
    const remediated = records.filter((r) => r.outcome === 'remediated' && r.resource.type === 'instance').map((r) => r.resource.id);
    expect(remediated.sort()).toEqual([...demo.expectedNonCompliantNodes].sort());
    const enforced = metadata();

    const sources: Record<string, string[]> = {
      'cli summary (no store)': summaryWithoutStore,
      'cli summary (--out)': commandsIn(stored.stdout),
    };
    for (const [name, text] of Object.entries(renderings(records, { auditTable: TABLE }))) sources[`${name} (store)`] = commandsIn(text);
    for (const [name, text] of Object.entries(renderings(records, {}))) sources[`${name} (no store)`] = commandsIn(text);
    for (const [name, cmds] of Object.entries(sources)) expect(cmds.length, name).toBeGreaterThan(0);

    const all = [...new Set(Object.values(sources).flat())];
    expect(all.some((c) => c.includes('--event'))).toBe(true);
    expect(all.some((c) => c.includes('--instances'))).toBe(true);
    for (const command of all) {
      // Each command starts from the enforced estate.
      for (const [id, m] of Object.entries(enforced)) Object.assign(sb.state.region(R).instances.get(id)!.metadata, m);
      const argv = command.split(/\s+/).slice(1);
      const r = await cli(argv, { interactive: true, answer: 'y', env });
      expect(r.code, `${command}\n${r.stderr}${r.stdout}`).toBe(0);
      const now = metadata();
      const scope = scopeOf(argv, remediated);
      expect(scope.length, command).toBeGreaterThan(0);
      for (const id of scope) expect(now[id], `${command}: ${id}`).toEqual(original[id]);
    }
  });

  it('revert --audit reads the SNS message as published, and the revert is recorded as reverted (severity high)', async () => {
    const out = join(dir, 'e2.jsonl');
    await cli(['enforce', '--yes', '--regions', R, '--out', out], { env: { AWS_REGION: R } });
    const records = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    const message = renderOwnerMessages(records.filter((r) => r.resource.owner === 'payments-oncall@example.com'))[0]!;
    const file = join(dir, 'message.json');
    // What an SQS subscriber receives: the SNS notification whose Message is the audit body.
    const notification = { Type: 'Notification', Message: (JSON.parse(message.message) as { sqs: string }).sqs };
    writeFileSync(file, JSON.stringify(notification, null, 2));
    const r = await cli(['revert', '--audit', file, '--yes', '--output', 'json'], { env: { AWS_REGION: R } });
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.records.length).toBeGreaterThan(0);
    expect(j.records.every((x) => x.outcome === 'reverted')).toBe(true);
    expect((j.records as unknown as AuditRecord[]).every((x) => x.severity === 'high')).toBe(true);
    const msgs = renderOwnerMessages(j.records as unknown as AuditRecord[]);
    expect(msgs[0]!.attributes.outcome).toBe('reverted');
    expect(msgs[0]!.subject).not.toMatch(/remediated/);
  });
});

describe('scan after enforce on the demo estate', () => {
  it('exits 1 and names what is left and who must act; --fail-on fixable keeps the old exit 0', async () => {
    expect((await cli(['enforce', '--yes', '--regions', R], { env: { AWS_REGION: R } })).code).toBe(0);
    const scan = await cli(['scan', '--regions', R], { env: { AWS_REGION: R } });
    expect(scan.code).toBe(1);
    const json = (await cli(['scan', '--regions', R, '--output', 'json'], { env: { AWS_REGION: R } })).json();
    const left = json.records.filter((x) => x.outcome === 'reported');
    expect(left.length).toBeGreaterThan(0);
    for (const x of left) {
      expect(scan.stdout).toContain(x.resource.id);
      expect(scan.stdout).toContain(`owner ${x.resource.owner} must act`);
    }
    expect(scan.stdout).toContain(demo.nodegroups.paymentsDefault.launchTemplateId);
    expect(scan.stdout).toContain(`account-defaults/${R}`);
    expect((await cli(['scan', '--regions', R, '--fail-on', 'fixable'], { env: { AWS_REGION: R } })).code).toBe(0);
    // account-defaults --check agrees with scan about the same default.
    expect((await cli(['account-defaults', '--check', '--regions', R], { env: { AWS_REGION: R } })).code).toBe(1);
  });

  it('a failed GetInstanceMetadataDefaults is one failed record; the rest of the Region is still scanned', async () => {
    sb.setFaults({ errors: { GetInstanceMetadataDefaults: { rate: 1, kind: '5xx' } } });
    const r = await cli(['scan', '--regions', R, '--output', 'json'], { env: { AWS_REGION: R } });
    const j = r.json();
    expect(j.regions[0]!.error).toBeUndefined();
    expect(j.records.find((x) => x.resource.type === 'account-defaults')?.outcome).toBe('failed');
    expect(j.records.filter((x) => x.resource.type === 'instance').length).toBeGreaterThan(5);
    expect(r.code).toBe(1);
  });
});
