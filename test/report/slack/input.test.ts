import { describe, expect, it } from 'vitest';
import { renderOwnerMessage } from '../../../lib/report/message.js';
import { parseSnsMessage } from '../../../lib/report/slack/input.js';
import { record, trigger } from './fixtures.js';

describe('parseSnsMessage', () => {
  const published = JSON.parse(renderOwnerMessage([record(1), record(2, 'failed')]).message);

  it('reads the lambda body of a json-structured publish', () => {
    const p = parseSnsMessage(published.lambda);
    expect(p).toMatchObject({ kind: 'ok', batches: [{ owner: 'payments', records: [{ outcome: 'remediated' }, { outcome: 'failed' }] }] });
  });

  it('unwraps the per-protocol object when a publisher forgot MessageStructure "json"', () => {
    expect(parseSnsMessage(JSON.stringify(published))).toMatchObject({ kind: 'ok', batches: [{ owner: 'payments' }] });
  });

  it('a bare record array is grouped by owner and trigger; the owner attribute wins when present', () => {
    const other = record(4, 'remediated', { trigger: { ...trigger, eventId: 'evt-2' } });
    const arr = JSON.stringify([record(1), record(2, 'failed', { owner: 'search' }), other]);
    const p = parseSnsMessage(arr);
    expect(p.kind === 'ok' && p.batches.map((b) => [b.owner, b.records.length])).toEqual([
      ['payments', 1],
      ['search', 1],
      ['payments', 1],
    ]);
    const q = parseSnsMessage(arr, 'platform');
    expect(q.kind === 'ok' && q.batches.map((b) => [b.owner, b.records.length])).toEqual([
      ['platform', 2],
      ['platform', 1],
    ]);
  });

  it('rejects what is not an audit message, with paths but no values', () => {
    expect(parseSnsMessage('{"hello":')).toEqual({ kind: 'invalid', message: 'SNS message is not JSON', issues: ['length 9'] });
    const bad = parseSnsMessage(
      JSON.stringify({ schema: 'imds-guard.message/v1', owner: 'x', records: [{ ...record(1), outcome: 'exploded' }] }),
    );
    expect(bad.kind).toBe('invalid');
    expect(bad.kind === 'invalid' && bad.issues.join(' ')).toMatch(/records\.0\.outcome/);
    expect(parseSnsMessage('[]').kind).toBe('invalid');
    expect(parseSnsMessage('"text"').kind).toBe('invalid');
  });
});
