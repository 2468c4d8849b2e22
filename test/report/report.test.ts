import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildRecord, type AuditRecord } from '../../lib/domain/audit.js';
import { auditLog, report } from '../../lib/report/report.js';
import { logger } from '../../lib/shell/observability.js';
import { TOPIC } from '../helpers/lambda.js';
import { instanceResource } from '../helpers/records.js';

const sns = mockClient(SNSClient);
const trigger = {
  source: 'cloudtrail' as const,
  eventName: 'RunInstances',
  eventId: 'ev-1',
  eventTime: '2026-11-20T10:15:30Z',
  actor: 'arn:aws:iam::111122223333:user/alice',
  region: 'eu-west-1',
  account: '111122223333',
};

function rec(id: string, owner: string, outcome: AuditRecord['outcome']): AuditRecord {
  return buildRecord({
    trigger,
    mode: 'enforce',
    resource: instanceResource(id, { owner }),
    outcome,
  });
}

// Audit log lines and Publish calls, in the order they happened.
let events: string[];
beforeEach(() => {
  events = [];
  sns.reset();
  for (const level of ['info', 'error'] as const) {
    vi.spyOn(logger, level).mockImplementation((_msg: unknown, ...extra: unknown[]) => {
      const audit = (extra[0] as { audit?: AuditRecord } | undefined)?.audit;
      if (audit) events.push(`log ${audit.id}`);
    });
  }
});
afterEach(() => vi.restoreAllMocks());

describe('report', () => {
  const records = [rec('i-1', 'a', 'remediated'), rec('i-2', 'b', 'failed'), rec('i-3', 'a', 'compliant')];

  // The handlers log each record as it is decided (auditLog), then report: the same order as before.
  it('logs every record before the first Publish, and still fails the run when Publish throws', async () => {
    sns.on(PublishCommand).callsFake(() => {
      events.push('publish');
      throw Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException' });
    });
    auditLog().rest(records);
    await expect(report(records, new SNSClient({ region: 'eu-west-1' }), TOPIC, ['remediated', 'failed'])).rejects.toThrow(/KMS/);
    expect(events).toEqual(['log ev-1:i-1', 'log ev-1:i-2', 'log ev-1:i-3', 'publish']);
  });

  it('on success, every record is logged and the published ones are sent once', async () => {
    sns.on(PublishCommand).callsFake(() => {
      events.push('publish');
      return { MessageId: 'm-1' };
    });
    auditLog().rest(records);
    const rep = await report(records, new SNSClient({ region: 'eu-west-1' }), TOPIC, ['remediated', 'failed']);
    expect(events.slice(0, 3)).toEqual(['log ev-1:i-1', 'log ev-1:i-2', 'log ev-1:i-3']);
    expect(events.slice(3)).toEqual(['publish', 'publish']);
    expect(rep.published.map((p) => p.owner).sort()).toEqual(['a', 'b']);
  });

  it('report itself logs no record (no second line, no double metrics); auditLog logs each record once', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await report(records, new SNSClient({ region: 'eu-west-1' }), TOPIC, ['remediated', 'failed']);
    expect(events.filter((e) => e.startsWith('log'))).toEqual([]);
    const log = auditLog();
    log.now(records[1]!);
    log.rest(records);
    log.rest(records);
    expect(events.filter((e) => e.startsWith('log'))).toEqual(['log ev-1:i-2', 'log ev-1:i-1', 'log ev-1:i-3']);
  });
});
