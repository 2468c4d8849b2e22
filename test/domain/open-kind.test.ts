// Issue 12: a new resource kind brings its own type and ARN. The versioned audit schema and every consumer of
// records (owner messages, notify-slack's parser, Slack, ASFF, OCSF) take a type they were never told about,
// so adding a kind does not mean editing the schema or the renderers.
import { describe, expect, it } from 'vitest';
import { arn, recordFor, type AuditResource } from '../../lib/domain/audit.js';
import { AuditRecordSchema } from '../../lib/domain/audit-schema.js';
import { toAsff } from '../../lib/report/findings/asff.js';
import { toOcsf } from '../../lib/report/findings/ocsf.js';
import { renderOwnerMessage } from '../../lib/report/message.js';
import { renderSlackMessage } from '../../lib/report/slack/blocks.js';
import { parseSnsMessage } from '../../lib/report/slack/input.js';

const region = 'eu-west-1';
const account = '111122223333';
const spotFleet: AuditResource = {
  type: 'spot-fleet',
  id: 'sfr-0123',
  arn: arn(region, 'ec2', account, 'spot-fleet-request/sfr-0123'),
  region,
  account,
  owner: 'team-batch',
};
const record = recordFor(spotFleet, {
  trigger: {
    source: 'cloudtrail',
    eventName: 'RequestSpotFleet',
    eventId: 'ev-sf',
    eventTime: '2026-12-01T10:00:00Z',
    actor: 'a',
    region,
    account,
  },
  mode: 'enforce',
  outcome: 'remediated',
  before: { httpTokens: 'optional', hopLimit: 2 },
  after: { httpTokens: 'required', hopLimit: 1 },
  violations: ['HttpTokens is optional, expected required'],
});

describe('a resource kind the schema and renderers were never told about', () => {
  it('is a valid audit record; a type that is not a kind name is not', () => {
    expect(AuditRecordSchema.safeParse(record).success).toBe(true);
    for (const bad of ['Spot Fleet', '', 'spot_fleet', '-x', 'a'.repeat(41)]) {
      const r = { ...record, resource: { ...record.resource, type: bad } };
      expect([bad, AuditRecordSchema.safeParse(r).success]).toEqual([bad, false]);
    }
  });

  it('carries the ARN its kind built, in the Region partition', () => {
    expect(record.resource.arn).toBe('arn:aws:ec2:eu-west-1:111122223333:spot-fleet-request/sfr-0123');
    expect(arn('cn-north-1', 'ec2', account, 'spot-fleet-request/sfr-1')).toMatch(/^arn:aws-cn:ec2:cn-north-1:/);
  });

  it('goes through the owner message and back through notify-slack into Slack blocks', () => {
    const m = renderOwnerMessage([record]);
    const bodies = JSON.parse(m.message) as Record<string, string>;
    expect(bodies.email).toContain('sfr-0123');
    const parsed = parseSnsMessage(bodies.lambda ?? bodies.default ?? '');
    expect(parsed.kind).toBe('ok');
    const back = parsed.kind === 'ok' ? parsed.batches[0]?.records[0] : undefined;
    expect(back?.resource.type).toBe('spot-fleet');
    expect(JSON.stringify(renderSlackMessage([record]))).toContain('sfr-0123');
  });

  it('maps to ASFF and OCSF findings generically, keyed on its ARN', () => {
    const asff = toAsff(record);
    expect(asff.Resources[0]).toMatchObject({ Type: 'Other', Id: record.resource.arn });
    expect(asff.Title).toContain('spot-fleet sfr-0123');
    const ocsf = toOcsf(record);
    expect(ocsf.resources[0]).toMatchObject({ uid: record.resource.arn, type: 'spot-fleet' });
  });
});
