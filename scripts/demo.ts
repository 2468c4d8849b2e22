// `npm start`: imds-guard end to end on the local AWS sandbox. No account, no credentials, no network.
// Seeds the demo estate through public APIs, delivers CloudTrail events to the real handlers as
// Lambda would, then shows what changed, what owners would hear, and a one-line summary.
import { DescribeInstancesCommand, EC2Client, ModifyInstanceMetadataOptionsCommand, type Instance } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import * as ct from '../sandbox/cloudtrail.js';
import { seedDemo } from '../sandbox/scenarios/demo.js';
import { startSandbox } from '../sandbox/server.js';
import type { AuditRecord } from '../lib/domain/audit.js';
import { formatOptions } from '../lib/report/message.js';
import { invoke } from './lib/local-lambda.js';
import { printMessages, table } from './lib/show.js';

const started = Date.now();
// SQS durations (long polls, retry delays) pass 20 times faster: only the storm at the end uses a queue.
const sandbox = await startSandbox({ port: 0, quiet: true, throttle: { enabled: false }, sqs: { timeScale: 20 } });
const region = 'eu-west-1';
Object.assign(process.env, sandbox.env(), {
  AWS_REGION: region,
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  SELF_ROLE_NAMES: 'imds-guard-local',
  DEFAULT_OWNER: 'platform-team',
});

try {
  const demo = await seedDemo({ endpoint: sandbox.url, region });
  const w = { region, account: demo.accountId };
  const topic = await new SNSClient({ region }).send(new CreateTopicCommand({ Name: 'imds-guard-audit' }));
  process.env.TOPIC_ARN = topic.TopicArn;
  const ec2 = new EC2Client({ region });
  const describe = async (ids: string[]) =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations!.flatMap((r) => r.Instances ?? []);

  const ng = demo.nodegroups;
  const modern = demo.modernNodegroups;
  const all = [
    ...ng.paymentsDefault.instanceIds,
    ...ng.analyticsCustom.instanceIds,
    ...demo.karpenterInstanceIds,
    demo.selfManaged.optionalHop1,
    demo.selfManaged.requiredHop2,
    demo.bastionInstanceId,
    demo.exemptInstanceId,
    ...modern.al2023.instanceIds,
    ...modern.bottlerocket.instanceIds,
    ...modern.windows.instanceIds,
    ...modern.eksctl.instanceIds,
  ];
  const before = new Map((await describe(all)).map((i) => [i.InstanceId!, i]));
  const pick = (ids: string[]) => ids.map((id) => before.get(id)!).filter(Boolean) as Instance[];

  // The CloudTrail events this estate produced, delivered as EventBridge would.
  const records: AuditRecord[] = [];
  const outcomes = new Map<string, string>();
  const deliver = async (fn: string, event: unknown) => {
    const res = await invoke(fn, event);
    for (const d of res.decisions ?? []) outcomes.set(d.id, d.outcome);
    if (res.status !== 'done') console.log(`  ${fn}: ${res.status} (${res.reason ?? res.message})`);
  };
  console.log('\nDelivering CloudTrail events to the handlers...');
  await deliver('enforce-instances', ct.runInstances(pick(ng.paymentsDefault.instanceIds), 'autoscaling', w));
  await deliver('enforce-instances', ct.runInstances(pick(ng.analyticsCustom.instanceIds), 'autoscaling', w));
  await deliver(
    'enforce-instances',
    ct.runInstances(
      pick([demo.selfManaged.optionalHop1, demo.selfManaged.requiredHop2, demo.bastionInstanceId, demo.exemptInstanceId]),
      'user',
      w,
    ),
  );
  await deliver('enforce-instances', ct.createFleet(demo.karpenterInstanceIds, w));
  await deliver(
    'enforce-launch-templates',
    ct.createLaunchTemplate(ng.analyticsCustom.launchTemplateId, ng.analyticsCustom.launchTemplateName, w),
  );
  await deliver(
    'enforce-nodegroups',
    ct.createNodegroup(ng.analyticsCustom.clusterName, ng.analyticsCustom.nodegroupName, w, {
      id: ng.analyticsCustom.launchTemplateId,
      version: '1',
    }),
  );
  await deliver('enforce-nodegroups', ct.createNodegroup(ng.paymentsDefault.clusterName, ng.paymentsDefault.nodegroupName, w));
  // Today's node groups: AL2023 and Bottlerocket launch compliant from EKS's own template; Windows and eksctl do not.
  for (const m of [modern.al2023, modern.bottlerocket, modern.windows]) {
    await deliver('enforce-instances', ct.runInstances(pick(m.instanceIds), 'autoscaling', w));
    await deliver('enforce-nodegroups', ct.createNodegroup(m.clusterName, m.nodegroupName, w));
  }
  await deliver('enforce-instances', ct.runInstances(pick(modern.eksctl.instanceIds), 'autoscaling', w));
  // Drift: someone switches a fixed node back to IMDSv1; imds-guard puts it right again.
  const drifted = demo.selfManaged.optionalHop1;
  await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: drifted, HttpTokens: 'optional' }));
  await deliver('enforce-instances', ct.modifyMetadataOptions(drifted, w));
  console.log('  a user reverted', drifted, 'to HttpTokens=optional: drift event delivered');

  for (const m of sandbox.messages()) {
    const body = JSON.parse(m.bodies.default ?? m.message);
    records.push(...(body.records ?? []));
  }

  const after = new Map((await describe(all)).map((i) => [i.InstanceId!, i]));
  // Latest decision per resource, as the owner sees it.
  const latest = new Map<string, AuditRecord>();
  for (const r of records) latest.set(r.resource.id, r);
  const name = (i: Instance | undefined) =>
    i?.Tags?.find((t) => t.Key === 'Name')?.Value ??
    i?.Tags?.find((t) => t.Key === 'eks:nodegroup-name')?.Value ??
    i?.Tags?.find((t) => t.Key === 'karpenter.sh/nodepool')?.Value ??
    '';
  const opts = (i: Instance | undefined) =>
    formatOptions({ httpTokens: i?.MetadataOptions?.HttpTokens as 'optional', hopLimit: i?.MetadataOptions?.HttpPutResponseHopLimit });

  console.log('\nInstances: before -> after (read back from the sandbox)');
  table(
    ['instance', 'what', 'owner', 'before', 'after', 'outcome'],
    all.map((id) => {
      const r = latest.get(id);
      return [
        id,
        name(before.get(id)),
        r?.resource.owner ?? '(not published)',
        opts(before.get(id)),
        opts(after.get(id)),
        outcomes.get(id) ?? '-',
      ];
    }),
  );
  console.log('\nLaunch templates and node groups');
  table(
    ['resource', 'type', 'owner', 'before', 'after', 'outcome', 'why'],
    records
      .filter((r) => r.resource.type !== 'instance')
      .map((r) => [
        r.resource.name ?? r.resource.id,
        r.resource.type,
        r.resource.owner,
        formatOptions(r.before),
        r.after ? formatOptions(r.after) : '-',
        r.outcome,
        (r.reason ?? '').slice(0, 90),
      ]),
  );

  console.log("\nNode groups by AMI type: EKS's own template decides the defaults (tokens required / hop 1 is left alone)");
  table(
    ['node group', 'AMI type', 'nodes before', 'nodes after', 'node group outcome'],
    [
      { nodegroupName: ng.paymentsDefault.nodegroupName, amiType: 'AL2_x86_64', instanceIds: ng.paymentsDefault.instanceIds },
      modern.al2023,
      modern.bottlerocket,
      modern.windows,
      { nodegroupName: modern.eksctl.nodegroupName, amiType: 'eksctl self-managed', instanceIds: modern.eksctl.instanceIds },
    ].map((m) => [
      m.nodegroupName,
      m.amiType,
      [...new Set(m.instanceIds.map((id) => opts(before.get(id))))].join(', '),
      [...new Set(m.instanceIds.map((id) => opts(after.get(id))))].join(', '),
      outcomes.get(m.nodegroupName) ?? (m.amiType.startsWith('eksctl') ? '(no node group event: instances only)' : '-'),
    ]),
  );

  printMessages(sandbox.messages(), process.argv.includes('--email') ? 'email' : 'slack');

  const fixed = all.filter(
    (id) =>
      after.get(id)?.MetadataOptions?.HttpTokens === 'required' && (after.get(id)?.MetadataOptions?.HttpPutResponseHopLimit ?? 9) <= 1,
  ).length;
  const untouched = [demo.bastionInstanceId, demo.exemptInstanceId].filter((id) => opts(before.get(id)) === opts(after.get(id))).length;
  console.log(
    `\nSummary: ${fixed}/${all.length} instances compliant after enforcement; ${untouched}/2 exempt and non-EKS instances left untouched; ` +
      `${sandbox.messages().length} owner messages; ${records.filter((r) => r.outcome === 'failed').length} failures; ${((Date.now() - started) / 1000).toFixed(1)} s.`,
  );

  // Imported here: the product modules it loads read POWERTOOLS_* from the env set above.
  const { runStorm, TIME_SCALE } = await import('./lib/storm.js');
  console.log(
    `\nA scale-up storm through the remediation queue: 300 nodes in 30 RunInstances events; EC2's buckets (burst 100) refill x${TIME_SCALE}`,
  );
  const storm = await runStorm({ sandbox, region, account: demo.accountId, out: process.stdout });
  console.log(
    `storm: ${storm.compliant}/${storm.nodes} nodes compliant, ${storm.nodes - storm.compliant} left, ${storm.modifyCalls} Modify calls, ${storm.seconds.toFixed(1)} s`,
  );
  console.log(`\nAn organization: a hub and 3 member accounts in one OU, 2 Regions each, backfilled by one durable execution`);
  const { runOrgDemo } = await import('./lib/org-demo.js');
  console.log(await runOrgDemo());
} finally {
  await sandbox.close();
}
