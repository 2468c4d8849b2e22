import { describe, expect, it } from 'vitest';
import { SLACK_LIMITS, clip, escapeSlack, renderSlackMessage, type SlackBlock } from '../../../lib/report/slack/blocks.js';
import { renderSlackPreview } from '../../../lib/report/slack/preview.js';
import { record, trigger } from './fixtures.js';

const texts = (blocks: SlackBlock[]) =>
  blocks.map((b) =>
    b.type === 'header' || b.type === 'section' ? b.text.text : b.type === 'context' ? b.elements.map((e) => e.text).join('\n') : '',
  );

function expectWithinLimits(msg: ReturnType<typeof renderSlackMessage>) {
  expect(msg.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  expect(msg.text.length).toBeLessThanOrEqual(SLACK_LIMITS.textChars);
  for (const b of msg.blocks) {
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerChars);
    if (b.type === 'section') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionChars);
    if (b.type === 'context') {
      expect(b.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
      for (const e of b.elements) expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionChars);
    }
  }
}

describe('renderSlackMessage', () => {
  it('header with counts, a section per resource with before → after, links, error, actor and time, revert hint', () => {
    const lt = record(9, 'reported', {
      resource: {
        type: 'launch-template',
        id: 'lt-0abc',
        arn: 'arn:aws:ec2:eu-west-1:111122223333:launch-template/lt-0abc',
        region: 'eu-west-1',
        account: '111122223333',
        cluster: 'payments-prod',
        owner: 'payments',
      },
      reason: 'EKS-created template: update the node group',
    });
    const msg = renderSlackMessage([record(1), record(2, 'failed'), lt]);
    const [header, summary, divider, ...rest] = msg.blocks;
    expect(header).toEqual({
      type: 'header',
      text: { type: 'plain_text', emoji: true, text: ':x: imds-guard: 1 failed, 1 reported, 1 remediated · payments' },
    });
    expect(summary!.type).toBe('section');
    const s = texts([summary!])[0]!;
    expect(s).toContain('*RunInstances* by `arn:aws:sts::111122223333:assumed-role/eks-nodegroup/i-launch`');
    expect(s).toContain('<!date^1741064767^{date_short_pretty} {time_secs}|2025-03-04T05:06:07Z>');
    expect(divider).toEqual({ type: 'divider' });
    // Most urgent first.
    const [failed, reported, remediated] = texts(rest);
    expect(failed).toContain(
      ':x: *failed* · instance <https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#InstanceDetails:instanceId=i-00000000000000002|i-00000000000000002>',
    );
    expect(failed).toContain('*Error* `UnauthorizedOperation`: You are not authorized to perform this operation. (request `rid-1`)');
    expect(failed).toContain(
      'node group <https://eu-west-1.console.aws.amazon.com/eks/home?region=eu-west-1#/clusters/payments-prod/nodegroups/ng-general|ng-general>',
    );
    expect(reported).toContain(
      '<https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#LaunchTemplateDetails:launchTemplateId=lt-0abc|lt-0abc>',
    );
    expect(reported).toContain('*Reason:* EKS-created template: update the node group');
    expect(remediated).toContain('`tokens=optional hop=2` → `tokens=required hop=1`');
    const context = msg.blocks.at(-1)!;
    expect(context.type).toBe('context');
    const hint = texts([context])[0]!;
    // A command that runs as printed (issue 15): --regions, and --before with the recorded options.
    expect(hint).not.toContain('&lt;file.jsonl&gt;');
    expect(hint).toContain('`imds-guard revert --instances i-00000000000000001 --regions eu-west-1 --before tokens=optional,hop=2');
    expect(texts([context]).join('\n')).not.toMatch(/--region |…/);
    const stored = texts([renderSlackMessage([record(1)], 'payments', { auditTable: 'imds-guard-prod-audit' }).blocks.at(-1)!]).join('\n');
    expect(stored).toContain(`\`imds-guard revert --event ${record(1).trigger.eventId} --audit-table imds-guard-prod-audit\``);
    expect(msg.text).toMatch(/^:x: imds-guard: 1 failed, 1 reported, 1 remediated · payments — RunInstances by arn:aws:sts/);
    expectWithinLimits(msg);
  });

  it('marks a dry run in the header, the summary, each section and the hint', () => {
    const msg = renderSlackMessage([record(1, 'would-remediate'), record(2, 'would-remediate')]);
    const all = texts(msg.blocks).join('\n');
    expect(texts(msg.blocks)[0]).toContain('imds-guard [DRY RUN]: 2 would-remediate');
    expect(all).toContain('_(dry run: not applied)_');
    expect(all).toContain('Dry run: nothing was changed');
    expect(all).not.toContain('--instances');
  });

  it('node group records link to the node group page', () => {
    const ng = record(1, 'reported', {
      resource: {
        type: 'nodegroup',
        id: 'ng-general',
        arn: 'x',
        region: 'us-east-1',
        account: '111122223333',
        cluster: 'c 1',
        nodegroup: 'ng-general',
        owner: 'payments',
      },
    });
    expect(texts(renderSlackMessage([ng]).blocks)[3]).toContain(
      '<https://us-east-1.console.aws.amazon.com/eks/home?region=us-east-1#/clusters/c%201/nodegroups/ng-general|ng-general>',
    );
  });

  it('escapes &, < and > in user-controlled strings; no injected links or mentions', () => {
    const evil = record(1, 'failed', {
      owner: 'team <!channel> & co',
      error: { name: 'Boom', message: 'bad <https://evil.example|click> & <@U123>' },
      notes: ['tag value <script>'],
      resource: {
        type: 'instance',
        id: 'i-1',
        arn: 'x',
        region: 'eu-west-1',
        account: '111122223333',
        cluster: 'a>b',
        owner: 'team <!channel> & co',
        name: 'web & <db>',
      },
    });
    const msg = renderSlackMessage([evil]);
    const all = [...texts(msg.blocks), msg.text].join('\n');
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<https://evil');
    expect(all).not.toContain('<@U123>');
    expect(all).toContain('team &lt;!channel&gt; &amp; co');
    expect(all).toContain('bad &lt;https[:]//evil.example|click&gt; &amp; &lt;@U123&gt;');
    expect(all).toContain('_web &amp; &lt;db&gt;_');
    expect(all).toContain('tag value &lt;script&gt;');
  });

  it('100 records: at most 50 blocks, an "…and N more" block with counts, everything within limits', () => {
    const records = Array.from({ length: 100 }, (_, i) => record(i + 1, i % 10 === 0 ? 'failed' : 'remediated'));
    const msg = renderSlackMessage(records);
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    expectWithinLimits(msg);
    const resources = msg.blocks.filter((b) => b.type === 'section' && /^:(x|white_check_mark):/.test(b.text.text));
    const more = texts(msg.blocks).find((t) => t.startsWith('…and '))!;
    const [, n, counts] = /^…and (\d+) more resources \((.*)\)$/.exec(more)!;
    expect(resources.length + Number(n)).toBe(100);
    // The 10 failures are shown first; the hidden ones are remediated.
    expect(resources.slice(0, 10).every((b) => b.type === 'section' && b.text.text.startsWith(':x:'))).toBe(true);
    expect(Number(n)).toBeGreaterThan(0);
    expect(counts).toBe(`${n} remediated`);
    expect(msg.text).toMatch(/…and \d+ more resources \(\d+ remediated\)$/);
    expect(msg.blocks.at(-1)!.type).toBe('context');
  });

  it('short records hit the 50-block cap before the character budget', () => {
    const records = Array.from({ length: 100 }, (_, i) => {
      const r = record(i + 1, 'gone');
      return {
        ...r,
        before: undefined,
        after: undefined,
        violations: [],
        resource: { ...r.resource, cluster: undefined, nodegroup: undefined, region: 'nowhere' },
      };
    });
    const msg = renderSlackMessage(records);
    expect(msg.blocks).toHaveLength(50);
    expect(texts(msg.blocks)).toContain('…and 56 more resources (56 gone)');
    expectWithinLimits(msg);
  });

  it('exactly as many records as fit: no "…and more" block', () => {
    const msg = renderSlackMessage(Array.from({ length: 3 }, (_, i) => record(i + 1)));
    expect(texts(msg.blocks).some((t) => t.startsWith('…and'))).toBe(false);
    expect(msg.blocks).toHaveLength(3 + 3 + 2);
  });

  it('huge strings are truncated with an ellipsis, never over a limit, never throwing', () => {
    const big = 'x&<>'.repeat(5000);
    const records = Array.from({ length: 60 }, (_, i) =>
      record(i + 1, 'failed', {
        owner: big,
        reason: big,
        notes: [big, big, big, big],
        error: { name: big, message: big },
        trigger: { ...trigger, actor: big, eventName: big },
      }),
    );
    const msg = renderSlackMessage(records, big);
    expectWithinLimits(msg);
    expect(texts(msg.blocks)[0]!.endsWith('…')).toBe(true);
    expect(JSON.stringify(msg)).not.toMatch(/&(a|am|l|g|lt|gt)?…/); // no half entity
    const total = msg.blocks.reduce((n, b) => n + (b.type === 'section' ? b.text.text.length : 0), 0);
    expect(total).toBeLessThanOrEqual(SLACK_LIMITS.totalChars + 3 * SLACK_LIMITS.sectionChars);
  });

  it('clip and escape', () => {
    expect(escapeSlack('a & <b>')).toBe('a &amp; &lt;b&gt;');
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('a &amp; b', 5)).toBe('a …');
    expect(clip('see <https://x.example|x> now', 12)).toBe('see …');
    expect(clip('ab😀cd', 4)).toBe('ab…');
  });
});

describe('renderSlackPreview', () => {
  it('turns Block Kit into readable terminal text', () => {
    const out = renderSlackPreview(renderSlackMessage([record(1), record(2, 'failed')]));
    expect(out.split('\n')[0]).toBe('✖ imds-guard: 1 failed, 1 remediated · payments');
    expect(out.split('\n')[1]).toMatch(/^═+$/);
    expect(out).toContain('RunInstances by `arn:aws:sts::111122223333:assumed-role/eks-nodegroup/i-launch`');
    expect(out).toContain('Event time: 2025-03-04T05:06:07Z');
    expect(out).toContain('  ✖ failed · instance i-00000000000000002 ↗\n  cluster `payments-prod` · node group ng-general ↗');
    expect(out).toContain('`tokens=optional hop=2` → `tokens=required hop=1` (not applied)');
    expect(renderSlackPreview(renderSlackMessage([record(1)]), { showUrls: true })).toContain(
      'instance i-00000000000000001 (https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#InstanceDetails:instanceId=i-00000000000000001)',
    );
    expect(out).toContain('`tokens=optional hop=2` → `tokens=required hop=1`');
    expect(out).toContain(
      '  › To undo: `imds-guard revert --instances i-00000000000000001 --regions eu-west-1 --before tokens=optional,hop=2',
    );
    expect(out).toContain('─'.repeat(72));
    expect(out).not.toMatch(/&amp;|&lt;|&gt;|<!date/);
  });
});
