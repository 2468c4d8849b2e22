import { describe, expect, it } from 'vitest';
import { arn, recordFor, type AuditFacts, type AuditResource } from '../../lib/domain/audit.js';

const trigger = {
  source: 'backfill' as const,
  eventName: 'Backfill',
  eventId: 'run-1',
  eventTime: '2026-11-20T10:15:30Z',
  actor: 'arn:aws:iam::111122223333:user/alice',
  region: 'eu-west-1',
  account: '111122223333',
};
const facts: AuditFacts = { trigger, mode: 'enforce', outcome: 'remediated' };
const at = { region: 'eu-west-1', account: '111122223333', owner: 'team-a' };

function nodegroup(cluster: string, name: string): AuditResource {
  return {
    type: 'nodegroup',
    id: name,
    arn: arn(at.region, 'eks', at.account, `nodegroup/${cluster}/${name}`),
    cluster,
    nodegroup: name,
    ...at,
  };
}
const template: AuditResource = {
  type: 'launch-template',
  id: 'lt-0123456789abcdef0',
  arn: arn(at.region, 'ec2', at.account, 'launch-template/lt-0123456789abcdef0'),
  ...at,
};

describe('audit record ids', () => {
  it('node groups of the same name in two clusters get different ids', () => {
    const a = recordFor(nodegroup('payments', 'default'), facts);
    const b = recordFor(nodegroup('analytics', 'default'), facts);
    expect(a.id).not.toBe(b.id);
    expect(a.id).toBe('run-1:nodegroup/payments/default');
  });

  it('a launch template fixed at its default and its latest version gets one id per source version', () => {
    const fixDefault = recordFor(template, { ...facts, details: { sourceVersion: 3, newVersion: 5, madeDefault: true } });
    const fixLatest = recordFor(template, { ...facts, details: { sourceVersion: 4, newVersion: 6, madeDefault: false } });
    expect(fixDefault.id).not.toBe(fixLatest.id);
    expect([fixDefault.id, fixLatest.id]).toEqual(['run-1:lt-0123456789abcdef0:v3', 'run-1:lt-0123456789abcdef0:v4']);
  });

  it('is deterministic, so a retried trigger dedupes', () => {
    const once = recordFor(nodegroup('payments', 'default'), facts);
    const again = recordFor(nodegroup('payments', 'default'), { ...facts, outcome: 'failed', error: { name: 'E', message: 'm' } });
    expect(again.id).toBe(once.id);
    expect(recordFor(template, { ...facts, details: { sourceVersion: 3 } }).id).toBe(
      recordFor(template, { ...facts, details: { sourceVersion: 3 } }).id,
    );
  });

  it('instances and single template records keep the trigger:resource form', () => {
    const instance: AuditResource = { type: 'instance', id: 'i-1', arn: arn(at.region, 'ec2', at.account, 'instance/i-1'), ...at };
    expect(recordFor(instance, facts).id).toBe('run-1:i-1');
    expect(recordFor(template, { ...facts, outcome: 'reported' }).id).toBe('run-1:lt-0123456789abcdef0');
  });
});
