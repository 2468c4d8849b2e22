// The demo's organization: a second sandbox with a hub and three member accounts (each with the
// imds-guard-member role) in one OU, two Regions each, a few non-compliant EKS nodes per account and Region.
// The org backfill runs as Lambda would run it: one durable execution (here on the durable functions testing
// SDK's local runner) over the OU's (account x Region) units, acting in each account through its member role.
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { makeBackfillHandler, type BackfillHandlerResult } from '../../lib/lambda/backfill.js';
import { resetAccountCredentials } from '../../lib/shell/accounts.js';
import { resetClients } from '../../lib/shell/clients.js';
import { loadConfig } from '../../lib/shell/config.js';
import { startSandbox } from '../../sandbox/server.js';
import { table } from './show.js';

const ACCOUNTS = ['210987654321', '321098765432', '432109876543'];
const OU = 'ou-demo-platform1';
const REGIONS = ['eu-west-1', 'us-east-1'];

/** Runs the organization section of `npm start`; returns its one-line summary. */
export async function runOrgDemo(): Promise<string> {
  const started = Date.now();
  const sb = await startSandbox({
    port: 0,
    quiet: true,
    throttle: { enabled: false },
    accounts: ACCOUNTS.map((id) => ({ id, roles: ['imds-guard-member'], parentId: OU })),
  });
  const saved = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = sb.url;
  resetClients();
  resetAccountCredentials();
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
  try {
    for (const [n, account] of ACCOUNTS.entries()) {
      const sts = new STSClient({ region: 'eu-west-1', endpoint: sb.url });
      const arn = `arn:aws:iam::${account}:role/imds-guard-member`;
      const c = (await sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'demo-seed' }))).Credentials!;
      const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
      for (const region of REGIONS)
        await new EC2Client({ region, endpoint: sb.url, credentials }).send(
          new RunInstancesCommand({
            ImageId: 'ami-0demo0000000000001',
            MinCount: 2 + n,
            MaxCount: 2 + n,
            MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
            TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'eks:cluster-name', Value: `team-${n}` }] }],
          }),
        );
    }
    const nodes = (a: string, r: string) => [...sb.account(a).region(r).instances.values()];
    const ok = (i: { metadata: { HttpTokens?: string; HttpPutResponseHopLimit?: number } }) =>
      i.metadata.HttpTokens === 'required' && i.metadata.HttpPutResponseHopLimit === 1;
    const before = new Map(ACCOUNTS.flatMap((a) => REGIONS.map((r) => [`${a}/${r}`, nodes(a, r).filter((i) => !ok(i)).length])));
    const topic = (await new SNSClient({ region: 'eu-west-1', endpoint: sb.url }).send(new CreateTopicCommand({ Name: 'audit' })))
      .TopicArn!;
    const handler = makeBackfillHandler(loadConfig({ TOPIC_ARN: topic, IDENTITY_GATE: 'off', MODE: 'enforce' }));
    const ex = await new LocalDurableTestRunner({ handlerFunction: withDurableExecution(handler) }).run({
      payload: { mode: 'enforce', ou: OU, regions: REGIONS },
    });
    const res = ex.getResult() as BackfillHandlerResult;
    table(
      ['account', 'region', 'non-compliant before', 'after'],
      ACCOUNTS.flatMap((a) =>
        REGIONS.map((r) => [a, r, String(before.get(`${a}/${r}`)), String(nodes(a, r).filter((i) => !ok(i)).length)]),
      ),
    );
    const assumed = sb.assumeRoleCalls().filter((c) => c.sessionName !== 'demo-seed').length;
    const done = 'units' in res ? `${res.succeeded}/${res.units} units` : res.status;
    return `org backfill (${OU}): ${done}, ${res.status === 'invalid' ? 0 : (res.counts.remediated ?? 0)} nodes fixed in ${ACCOUNTS.length} accounts x ${REGIONS.length} Regions, ${assumed} AssumeRole calls, ${((Date.now() - started) / 1000).toFixed(1)} s`;
  } finally {
    await LocalDurableTestRunner.teardownTestEnvironment();
    await sb.close();
    process.env.AWS_ENDPOINT_URL = saved;
    resetClients();
  }
}
