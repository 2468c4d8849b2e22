// publish-findings (issue 15, findings out): the audit topic's messages, as SNS delivers them to the function,
// become the account's own Security Hub findings. Foreign-topic and invalid messages are dropped without a call;
// a refused finding is counted, not retried; a failed call fails the invocation (SNS/Lambda retry, then the DLQ).
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lib/domain/audit.js';
import { makePublishFindingsHandler } from '../../lib/lambda/publish-findings.js';
import { renderOwnerMessages } from '../../lib/report/message.js';
import { publishMessages } from '../../lib/report/sns.js';
import { findingId } from '../../lib/report/findings/asff.js';
import { FindingsCallError } from '../../lib/shell/security-hub.js';
import { harness, type Harness } from '../helpers/sandbox.js';
import { snsEventOf } from '../helpers/lambda.js';
import { record } from '../report/findings/records.js';

let h: Harness;
let hub: SecurityHubClient;
let topicArn: string;
beforeAll(async () => {
  h = await harness();
  hub = new SecurityHubClient(h.cfg);
});
afterAll(() => h.sb.close());
beforeEach(async () => {
  h.sb.reset();
  topicArn = (await h.sns.send(new CreateTopicCommand({ Name: 'imds-guard-audit' }))).TopicArn!;
});

/** Publish the records as report() does, and hand back what SNS would deliver to the subscriber. */
async function delivered(records: AuditRecord[]) {
  const seen = h.sb.messages().length;
  await publishMessages(h.sns, topicArn, renderOwnerMessages(records));
  return snsEventOf(h.sb.messages().slice(seen));
}
const all = async () => (await hub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? [];

describe('publish-findings', () => {
  it("every published record becomes the account's own finding; a remediated one is PASSED and RESOLVED", async () => {
    const fixed = record('instance', 'remediated');
    const template = record('launch-template', 'would-remediate');
    const out = await makePublishFindingsHandler({ topicArn, clientFor: () => hub })(await delivered([fixed, template]));
    expect(out).toMatchObject({ invalid: 0, records: 2, findings: { imported: 2, failed: 0, workflowUpdated: 1 } });
    const byId = new Map((await all()).map((f) => [f.Id, f]));
    expect([byId.get(findingId(fixed))?.Compliance?.Status, byId.get(findingId(fixed))?.Workflow?.Status]).toEqual(['PASSED', 'RESOLVED']);
    expect(byId.get(findingId(template))?.Compliance?.Status).toBe('FAILED');
  });

  it('a message from another topic, or not an audit message, is dropped without a Security Hub call', async () => {
    const event = await delivered([record('instance', 'failed')]);
    const foreign = { Records: event.Records.map((r) => ({ ...r, Sns: { ...r.Sns, TopicArn: `${topicArn}-other` } })) };
    const garbage = { Records: event.Records.map((r) => ({ ...r, Sns: { ...r.Sns, Message: '{"schema":"nope"}' } })) };
    const run = makePublishFindingsHandler({ topicArn, clientFor: () => hub });
    expect(await run(foreign)).toMatchObject({ messages: 0, records: 0, findings: { imported: 0 } });
    expect(await run(garbage)).toMatchObject({ messages: 0, invalid: 1, records: 0 });
    expect(h.sb.stats().calls.BatchImportFindings ?? 0).toBe(0);
  });

  it('a finding Security Hub refuses is counted, not thrown (a retry would be refused again)', async () => {
    const r = record('instance', 'failed');
    const foreign = { ...r, resource: { ...r.resource, account: '999988887777' } };
    const out = await makePublishFindingsHandler({ topicArn, clientFor: () => hub })(await delivered([foreign]));
    expect(out.findings).toEqual({ imported: 0, failed: 1, workflowUpdated: 0 });
  });

  it('Security Hub unreachable: the invocation fails, so SNS/Lambda retry and then the DLQ keep the message', async () => {
    const broken = new SecurityHubClient({ ...h.cfg, endpoint: 'http://127.0.0.1:9' });
    const run = makePublishFindingsHandler({ topicArn, clientFor: () => broken });
    await expect(run(await delivered([record('instance', 'failed')]))).rejects.toBeInstanceOf(FindingsCallError);
  });
});
