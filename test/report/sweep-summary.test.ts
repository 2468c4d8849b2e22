// The sweep's summary: queued nodes split by launch time (missed by events vs event maybe in flight), and the
// line owners read in the email and Chatbot bodies.
import { describe, expect, it } from 'vitest';
import { missedLine, renderSummaryMessage, summarize, SWEEP_MIN_AGE_MS, sweepCounts } from '../../lib/report/summary.js';

const START = '2026-01-01T12:00:00.000Z';
const ago = (ms: number) => new Date(Date.parse(START) - ms).toISOString();

describe('sweepCounts', () => {
  it('older than 10 minutes before the sweep started: missed by events; younger: in flight', () => {
    const queued = [
      { launchTime: ago(60 * 60_000) },
      { launchTime: ago(SWEEP_MIN_AGE_MS + 1) },
      { launchTime: ago(SWEEP_MIN_AGE_MS - 1) },
      { launchTime: ago(0) },
      { launchTime: ago(-5_000) },
    ];
    expect(sweepCounts(queued, START)).toEqual({ queued: 5, missedByEvents: 2, inFlight: 3 });
  });

  it('an unknown launch time counts as missed; nothing queued is all zeros', () => {
    expect(sweepCounts([{}, { launchTime: undefined }], START)).toEqual({ queued: 2, missedByEvents: 2, inFlight: 0 });
    expect(sweepCounts([], START)).toEqual({ queued: 0, missedByEvents: 0, inFlight: 0 });
  });

  it('the threshold can be given', () => {
    expect(sweepCounts([{ launchTime: ago(90_000) }], START, 60_000)).toMatchObject({ missedByEvents: 1, inFlight: 0 });
    expect(sweepCounts([{ launchTime: ago(90_000) }], START, 120_000)).toMatchObject({ missedByEvents: 0, inFlight: 1 });
  });
});

describe('the sweep summary message', () => {
  const run = {
    runId: 'imds-guard-20260101T120000Z-abcdef',
    eventName: 'Sweep',
    account: '111122223333',
    actor: 'arn:x',
    startedAt: START,
  };
  const region = { region: 'eu-west-1', counts: {}, byType: {}, identityNotReady: [], queued: 42, missedByEvents: 40, inFlight: 2 };

  it('email and Chatbot say how many nodes events missed', () => {
    const bodies = JSON.parse(renderSummaryMessage(summarize(run, 'enforce', [region], START), 'platform').message);
    const text = '40 nodes were non-compliant and missed by events; queued for remediation';
    expect(bodies.email).toContain(text);
    expect(JSON.parse(bodies.https).content.description).toContain(text);
    expect(JSON.parse(bodies.default).regions[0]).toMatchObject({ queued: 42, missedByEvents: 40, inFlight: 2 });
  });

  it('a hand-run backfill through the queue says how many it queued; without the queue, nothing', () => {
    expect(missedLine({ queued: 3 })).toBe('3 instance changes queued for remediation');
    expect(missedLine({})).toBeUndefined();
    expect(missedLine({ queued: 0, missedByEvents: 0, inFlight: 0 })).toBe(
      '0 nodes were non-compliant and missed by events; queued for remediation',
    );
  });
});
