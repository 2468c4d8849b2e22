import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { matches } from '../helpers/event-pattern.js';
import { EXPIRY_ATTRIBUTE } from '../../lib/lambda/idempotency.js';
import {
  asArray,
  effectiveTemplate,
  iamStatements,
  packagedTemplate,
  resourcePolicyStatements,
  resourcesOfType,
} from '../helpers/template.js';

let t: any;
/** Deployed shapes (Conditions evaluated) of the default package and two param variants. */
let eks: any;
let selfManaged: any;
let all: any;
/** Remediation params changed and the sweep switched off. */
let tuned: any;
beforeAll(() => {
  t = packagedTemplate();
  eks = effectiveTemplate(t);
  selfManaged = effectiveTemplate(
    packagedTemplate({ selfManagedClusters: 'payments,legacy-1', rollout: 'true', alarmEmail: 'oncall@example.com' }),
  );
  all = effectiveTemplate(packagedTemplate({ scope: 'all' }));
  tuned = effectiveTemplate(packagedTemplate({ remediationConcurrency: '7', maxReceives: '3', sweepSchedule: 'off', mode: 'dry-run' }));
}, 180_000);

const ROOT = join(import.meta.dirname, '../..');
const sampleEvent = (name: string) => JSON.parse(readFileSync(join(ROOT, 'events', `${name}.json`), 'utf8'));
/** The functions whose EventBridge rules match an event. */
const rulesTargeting = (event: unknown): string[] =>
  resourcesOfType(t, 'AWS::Events::Rule')
    .filter(([, r]) => matches(deployedPattern(r.Properties.EventPattern), event))
    .flatMap(([, r]) => r.Properties.Targets.map((x: any) => x.Arn['Fn::GetAtt'][0] as string));
/** The sample events' account: the pattern as CloudFormation deploys it there (Fn::Sub of the pseudo parameters). */
const ACCOUNT = '111122223333';
function deployedPattern(p: any): any {
  if (Array.isArray(p)) return p.map(deployedPattern);
  if (!p || typeof p !== 'object') return p;
  if (typeof p['Fn::Sub'] === 'string')
    return p['Fn::Sub'].replace(/\$\{AWS::AccountId\}/g, ACCOUNT).replace(/\$\{AWS::Partition\}/g, 'aws');
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, deployedPattern(v)]));
}
const roleArn = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const fnByHandler = (name: string) =>
  resourcesOfType(t, 'AWS::Lambda::Function').find(([id]) => id.toLowerCase().startsWith(name.toLowerCase()))?.[1];
const functions = () => resourcesOfType(eks, 'AWS::Lambda::Function');
const EVENT_FUNCTIONS = [
  'EnforceInstancesLambdaFunction',
  'EnforceLaunchTemplatesLambdaFunction',
  'EnforceNodegroupsLambdaFunction',
  'EnforceFindingsLambdaFunction',
];
/** Invoked by the SQS event source (synchronously): its failures go through the queue's redrive, not a destination. */
const CONSUMER = 'RemediateInstancesLambdaFunction';
const statementsOf = (tpl: any, role: string) =>
  iamStatements(tpl)
    .filter((s) => s.resource === role)
    .map((s) => s.statement);
const actionsOf = (tpl: any, role: string) => statementsOf(tpl, role).flatMap((s) => asArray(s.Action) as string[]);

/** What a Resource points at: a literal/Fn::Sub ARN, or the type of the resource it references. */
function target(tpl: any, r: any): string {
  if (typeof r === 'string') return r;
  if (r?.['Fn::Sub']) return asArray(r['Fn::Sub'])[0] as string;
  const ref = r?.Ref ?? (r?.['Fn::GetAtt']?.[1] === 'Arn' ? r['Fn::GetAtt'][0] : undefined);
  return ref ? `${tpl.Resources[ref]?.Type ?? 'unknown'}:${ref}` : JSON.stringify(r);
}

/** Mutating actions and the only resources each may name. Any other mutating action fails until added here. */
const MUTATING: [RegExp, RegExp][] = [
  [/^ec2:ModifyInstanceMetadataOptions$/, /^arn:\$\{AWS::Partition\}:ec2:(\*|\$\{AWS::Region\}):\$\{AWS::AccountId\}:instance\/\*$/],
  [
    /^ec2:(CreateLaunchTemplateVersion|ModifyLaunchTemplate)$/,
    /^arn:\$\{AWS::Partition\}:ec2:(\*|\$\{AWS::Region\}):\$\{AWS::AccountId\}:launch-template\/\*$/,
  ],
  [/^eks:UpdateNodegroupVersion$/, /^arn:\$\{AWS::Partition\}:eks:(\*|\$\{AWS::Region\}):\$\{AWS::AccountId\}:nodegroup\/\*$/],
  [/^sns:Publish$/, /^AWS::SNS::Topic:AuditTopic$/],
  [/^sqs:SendMessage$/, /^AWS::SQS::Queue:/],
  // The remediation queue: consumed by remediate-instances, tagged by the sweep (`imds-guard:last-sweep`).
  [/^sqs:(ReceiveMessage|DeleteMessage|ChangeMessageVisibility|GetQueueAttributes|TagQueue)$/, /^AWS::SQS::Queue:RemediationQueue$/],
  // The sweep schedule invokes the backfill (durable: by a qualified ARN); the backfill checkpoints its own executions.
  [/^lambda:InvokeFunction$/, /^\$\{BackfillLambdaFunction\.Arn\}:\$LATEST$/],
  [/^lambda:CheckpointDurableExecution$/, /^arn:.*:function:imds-guard-[\w-]+-backfill:\*$/],
  [/^dynamodb:(PutItem|UpdateItem|DeleteItem|GetItem)$/, /^AWS::DynamoDB::Table:IdempotencyTable$/],
  [/^kms:(Encrypt|Decrypt|GenerateDataKey)$/, /^AWS::KMS::Key:AuditKey$/],
  [/^logs:(CreateLogStream|PutLogEvents)$/, /:log-group:\/aws\/lambda\/[\w-]+:\*$/],
  // Account-level setting (backfill's account-defaults): it has no resource type, so "*" is the only choice.
  [/^ec2:ModifyInstanceMetadataDefaults$/, /^\*$/],
];
const MUTATING_VERB =
  /:(Create|Modify|Update|Delete|Put|Publish|Send|Terminate|Run|Start|Stop|Attach|Detach|Tag|Untag|Set|Encrypt|Decrypt|Generate|Change|Receive|Invoke)/;
/** Calls with no resource-level permissions: the only ones allowed on "*". */
// The organization's accounts and OUs: the OU an org-wide backfill lists is only known at run time.
const ACCOUNT_WIDE =
  /^(ec2:Describe\w+|ec2:(Get|Modify)InstanceMetadataDefaults|eks:ListClusters|iam:ListOpenIDConnectProviders|organizations:List(Accounts|AccountsForParent|OrganizationalUnitsForParent))$/;

// Both roles that fix instances (the queue consumer, the backfill) must carry the same scope statements.
// enforce-instances no longer does (issue 13): it queues each change for remediate-instances.
// enforce-findings (issue 15) fixes the instance a finding names itself, to close the finding with the outcome.
const REMEDIATING_ROLES = ['RemediateInstancesRole', 'BackfillRole', 'EnforceFindingsRole'];
const remediationStatements = (tpl: any, role = 'RemediateInstancesRole') =>
  iamStatements(tpl)
    .filter(({ resource, statement }) => resource === role && asArray(statement.Action).includes('ec2:ModifyInstanceMetadataOptions'))
    .map((s) => s.statement);
const tagKeysIn = (s: any) => Object.keys(s.Condition?.Null ?? {}).map((k) => k.replace(/^ec2:ResourceTag\//, ''));

describe('npx osls package: CloudFormation template', () => {
  it('has the EventBridge rule for the three instance events, with retries and a DLQ', () => {
    const rules = resourcesOfType(t, 'AWS::Events::Rule').map(([, r]) => r.Properties);
    const rule = rules.find((r) => r.EventPattern.detail.eventName.includes('RunInstances'));
    expect(rule).toBeDefined();
    expect(rule.EventPattern).toMatchObject({
      source: ['aws.ec2'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { eventSource: ['ec2.amazonaws.com'] },
    });
    expect([...rule.EventPattern.detail.eventName].sort()).toEqual(['CreateFleet', 'ModifyInstanceMetadataOptions', 'RunInstances']);
    const target = rule.Targets[0];
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number) });
    expect(JSON.stringify(target.DeadLetterConfig.Arn)).toContain('EventsDeadLetterQueue');
  });

  it('rules accept only aws.* sources on the default bus (PutEvents cannot forge an aws.* source)', () => {
    const rules = resourcesOfType(t, 'AWS::Events::Rule');
    expect(rules.length).toBeGreaterThanOrEqual(3);
    for (const [id, r] of rules) {
      expect(r.Properties.EventBusName ?? 'default', id).toBe('default');
      for (const s of asArray(r.Properties.EventPattern.source)) expect(s, id).toMatch(/^aws\.[a-z0-9]+$/);
    }
  });

  it('each sample event reaches exactly the function meant for it; a failed call reaches none', () => {
    const routed = (event: unknown) => rulesTargeting(event).sort();
    const expected: Record<string, string[]> = {
      'create-fleet-karpenter': ['EnforceInstancesLambdaFunction'],
      'run-instances-direct-3': ['EnforceInstancesLambdaFunction'],
      'run-instances-nodegroup-asg': ['EnforceInstancesLambdaFunction'],
      'run-instances-nodegroup-al2023': ['EnforceInstancesLambdaFunction'],
      'run-instances-nodegroup-bottlerocket': ['EnforceInstancesLambdaFunction'],
      'run-instances-nodegroup-windows': ['EnforceInstancesLambdaFunction'],
      'run-instances-eksctl-self-managed': ['EnforceInstancesLambdaFunction'],
      'modify-metadata-options-revert': ['EnforceInstancesLambdaFunction'],
      'create-launch-template': ['EnforceLaunchTemplatesLambdaFunction'],
      'create-launch-template-version': ['EnforceLaunchTemplatesLambdaFunction'],
      'modify-launch-template': ['EnforceLaunchTemplatesLambdaFunction'],
      'create-nodegroup-custom-template': ['EnforceNodegroupsLambdaFunction'],
      'update-nodegroup-version': ['EnforceNodegroupsLambdaFunction'],
      'run-instances-failed': [],
      'create-tags-eks-cluster-name': ['EnforceInstancesLambdaFunction'],
      'delete-tags-exempt': ['EnforceInstancesLambdaFunction'],
      // Real shapes (issue 16): a capacity failure has no top-level errorCode, so it reaches the function.
      'run-instances-tag-one': ['EnforceInstancesLambdaFunction'],
      'create-fleet-karpenter-single': ['EnforceInstancesLambdaFunction'],
      'create-fleet-capacity-failure': ['EnforceInstancesLambdaFunction'],
      'update-nodegroup-version-url-encoded': ['EnforceNodegroupsLambdaFunction'],
    };
    for (const f of readdirSync(join(ROOT, 'events')).filter((f) => f.endsWith('.json'))) {
      const name = f.replace(/\.json$/, '');
      expect(routed(sampleEvent(name)), name).toEqual(expected[name]);
    }
  });

  it("the rules drop imds-guard's own calls (every role in SELF_ROLE_NAMES), and still take callers without a session issuer", () => {
    const selfRoles = fnByHandler('EnforceInstances').Properties.Environment.Variables.SELF_ROLE_NAMES.split(',');
    expect(selfRoles).toHaveLength(8);
    // Every function role is named there (the loop guard must know all of them).
    const roleNames = functions().map(([, fn]) => t.Resources[fn.Properties.Role['Fn::GetAtt'][0]].Properties.RoleName);
    expect([...selfRoles].sort()).toEqual([...roleNames].sort());
    for (const name of [
      'run-instances-nodegroup-asg',
      'modify-metadata-options-revert',
      'create-launch-template-version',
      'update-nodegroup-version',
    ]) {
      for (const role of selfRoles) {
        const e = sampleEvent(name);
        e.detail.userIdentity.sessionContext.sessionIssuer.userName = role;
        e.detail.userIdentity.sessionContext.sessionIssuer.arn = roleArn(role);
        expect(rulesTargeting(e), `${name} by ${role}`).toEqual([]);
      }
      const iamUser = sampleEvent(name);
      iamUser.detail.userIdentity = {
        type: 'IAMUser',
        arn: 'arn:aws:iam::111122223333:user/alice',
        accountId: '111122223333',
        userName: 'alice',
      };
      expect(rulesTargeting(iamUser), `${name} by an IAM user`).toHaveLength(1);
    }
  });

  it('the notSelf filter matches the issuer ARN in this account, not the name (issue 17, attack 1)', () => {
    const selfRoles = fnByHandler('EnforceInstances').Properties.Environment.Variables.SELF_ROLE_NAMES.split(',');
    for (const name of ['run-instances-nodegroup-asg', 'modify-metadata-options-revert', 'create-launch-template-version']) {
      for (const role of selfRoles) {
        // A federated session whose issuer is an IAM user named like the role.
        const user = sampleEvent(name);
        user.detail.userIdentity = {
          type: 'FederatedUser',
          arn: `arn:aws:sts::${ACCOUNT}:federated-user/${role}`,
          accountId: ACCOUNT,
          sessionContext: { sessionIssuer: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/${role}`, userName: role } },
        };
        expect(rulesTargeting(user), `${name} by IAM user ${role}`).toHaveLength(1);
        // The same role name in another account.
        const other = sampleEvent(name);
        other.detail.userIdentity.sessionContext.sessionIssuer = {
          type: 'Role',
          arn: roleArn(role, '444455556666'),
          accountId: '444455556666',
          userName: role,
        };
        expect(rulesTargeting(other), `${name} by ${role} of another account`).toHaveLength(1);
      }
    }
    const pattern = JSON.stringify(resourcesOfType(t, 'AWS::Events::Rule').map(([, r]) => r.Properties.EventPattern));
    expect(pattern).not.toContain('userName');
    expect(pattern).toContain('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/imds-guard-prod-eu-west-1-enforce-instances');
  });

  it('CreateTags / DeleteTags reach enforce-instances only for the scope and exempt keys on instances (issue 17)', () => {
    const tagged = (keys: string[], ids = ['i-0a1b2c3d4e5f60011'], name = 'create-tags-eks-cluster-name') => {
      const e = sampleEvent(name);
      e.detail.requestParameters.tagSet.items = keys.map((key) => ({ key, value: 'x' }));
      e.detail.requestParameters.resourcesSet.items = ids.map((resourceId) => ({ resourceId }));
      return rulesTargeting(e);
    };
    for (const key of [
      'imds-guard:exempt',
      'eks:cluster-name',
      'eks:eks-cluster-name',
      'kubernetes.io/cluster/prod',
      'karpenter.sh/nodepool',
    ]) {
      expect(tagged([key]), key).toEqual(['EnforceInstancesLambdaFunction']);
      expect(tagged(['team', key], undefined, 'delete-tags-exempt'), `DeleteTags ${key}`).toEqual(['EnforceInstancesLambdaFunction']);
    }
    expect(tagged(['team', 'Name'])).toEqual([]);
    expect(tagged(['imds-guard:exempt'], ['vol-0123456789abcdef0'])).toEqual([]);
    const own = sampleEvent('delete-tags-exempt');
    own.detail.userIdentity.sessionContext.sessionIssuer.arn = roleArn('imds-guard-prod-eu-west-1-backfill');
    expect(rulesTargeting(own)).toEqual([]);
    const failed = sampleEvent('delete-tags-exempt');
    failed.detail.errorCode = 'Client.UnauthorizedOperation';
    expect(rulesTargeting(failed)).toEqual([]);
  });

  it('the audit topic is encrypted with a customer-managed KMS key; queues are encrypted', () => {
    const [, topic] = resourcesOfType(t, 'AWS::SNS::Topic').find(([id]) => id === 'AuditTopic')!;
    expect(topic.Properties.KmsMasterKeyId).toEqual({ Ref: 'AuditKey' });
    expect(t.Resources.AuditKey.Type).toBe('AWS::KMS::Key');
    expect(t.Resources.AuditKey.Properties.EnableKeyRotation).toBe(true);
    for (const [, q] of resourcesOfType(t, 'AWS::SQS::Queue'))
      expect(q.Properties.KmsMasterKeyId ?? q.Properties.SqsManagedSseEnabled).toBeTruthy();
  });

  it('every topic, queue and table is encrypted with AuditKey; CloudWatch may use it for the alarm topic', () => {
    for (const [id, r] of resourcesOfType(t, 'AWS::SNS::Topic')) expect(r.Properties.KmsMasterKeyId, id).toEqual({ Ref: 'AuditKey' });
    for (const [id, r] of resourcesOfType(t, 'AWS::SQS::Queue')) expect(r.Properties.KmsMasterKeyId, id).toEqual({ Ref: 'AuditKey' });
    const tables = resourcesOfType(t, 'AWS::DynamoDB::Table');
    expect(tables.map(([id]) => id).sort()).toEqual(['AuditTable', 'IdempotencyTable']);
    for (const [, r] of tables)
      expect(r.Properties.SSESpecification).toEqual({
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': ['AuditKey', 'Arn'] },
      });
    const services = resourcePolicyStatements(t)
      .filter((s) => s.resource === 'AuditKey')
      .flatMap((s) => asArray(s.statement.Principal?.Service));
    expect(services).toContain('cloudwatch.amazonaws.com');
  });

  it('the idempotency table: on demand, keyed on id, TTL on the expiry attribute Powertools writes, PITR', () => {
    const p = t.Resources.IdempotencyTable.Properties;
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: EXPIRY_ATTRIBUTE, Enabled: true });
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('the event functions, notify-slack and the consumer get IDEMPOTENCY_TABLE and record access on that table only; others get neither', () => {
    for (const [id, fn] of functions()) {
      const env = fn.Properties.Environment?.Variables ?? {};
      const role = fn.Properties.Role['Fn::GetAtt'][0];
      const ddb = iamStatements(eks).filter(
        (s) => s.resource === role && asArray(s.statement.Action).some((a: string) => a.startsWith('dynamodb:')),
      );
      if ([...EVENT_FUNCTIONS, 'NotifySlackLambdaFunction', CONSUMER].includes(id)) {
        expect(env.IDEMPOTENCY_TABLE, id).toEqual({ Ref: 'IdempotencyTable' });
        expect(ddb.map((s) => [[...asArray(s.statement.Action)].sort(), s.statement.Resource])).toEqual([
          [
            ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            { 'Fn::GetAtt': ['IdempotencyTable', 'Arn'] },
          ],
        ]);
      } else {
        expect(env.IDEMPOTENCY_TABLE, id).toBeUndefined();
        expect(ddb, id).toEqual([]);
      }
    }
  });

  it('no IAM statement has a "*" or service-wide wildcard action', () => {
    // Deployed shapes: statements inside Fn::If count too.
    const statements = [eks, selfManaged, all].flatMap(iamStatements);
    expect(statements.length).toBeGreaterThan(0);
    for (const { resource, statement } of statements) {
      for (const a of asArray(statement.Action)) {
        expect(a, `${resource} ${statement.Sid ?? ''}`).not.toBe('*');
        expect(a, `${resource} ${statement.Sid ?? ''}`).not.toMatch(/:\*$/);
      }
    }
  });

  it('no wildcard action in resource policies either, except the KMS default key policy (root delegates to IAM)', () => {
    for (const { resource, statement } of resourcePolicyStatements(eks)) {
      const rootAdmin = resource === 'AuditKey' && JSON.stringify(statement.Principal).includes(':root');
      if (rootAdmin) continue;
      for (const a of asArray(statement.Action)) expect(a, `${resource} ${statement.Sid ?? ''}`).not.toMatch(/(^\*$|:\*$)/);
    }
  });

  it('only calls without resource-level permissions are allowed on "*"', () => {
    for (const tpl of [eks, selfManaged, all]) {
      for (const { resource, statement } of iamStatements(tpl)) {
        if (!asArray(statement.Resource).includes('*')) continue;
        for (const a of asArray(statement.Action)) expect(a, `${resource} ${statement.Sid}`).toMatch(ACCOUNT_WIDE);
      }
    }
  });

  // In a key policy "*" means the key itself, so key policies are checked by the test above only.
  it('mutating actions name only resource ARNs of the right type', () => {
    for (const tpl of [eks, selfManaged, all]) {
      for (const { resource, statement } of [
        ...iamStatements(tpl),
        ...resourcePolicyStatements(tpl).filter((s) => tpl.Resources[s.resource].Type !== 'AWS::KMS::Key'),
      ]) {
        const where = `${resource} ${statement.Sid ?? ''}`;
        for (const a of asArray(statement.Action) as string[]) {
          const rule = MUTATING.find(([action]) => action.test(a));
          if (!rule) {
            expect(a, `${where}: unknown mutating action, add its resource rule`).not.toMatch(MUTATING_VERB);
            continue;
          }
          const resources = asArray(statement.Resource);
          expect(resources.length, where).toBeGreaterThan(0);
          for (const r of resources) expect(target(tpl, r), `${where} ${a}`).toMatch(rule[1]);
        }
      }
    }
  });

  it('ModifyInstanceMetadataOptions is limited to instance ARNs', () => {
    const s = [eks, selfManaged, all]
      .flatMap(iamStatements)
      .filter(({ statement }) => asArray(statement.Action).includes('ec2:ModifyInstanceMetadataOptions'));
    expect(s.length).toBeGreaterThan(0);
    for (const { statement } of s) {
      expect(JSON.stringify(statement.Resource)).toMatch(/:instance\/\*/);
      expect(statement.Resource).not.toBe('*');
    }
  });

  it.each(REMEDIATING_ROLES)(
    'scope eks: %s may ModifyInstanceMetadataOptions only on instances with an EKS node tag, one statement per tag key',
    (role) => {
      expect(
        iamStatements(eks)
          .filter(({ statement }) => asArray(statement.Action).includes('ec2:ModifyInstanceMetadataOptions'))
          .map((x) => x.resource)
          .sort(),
      ).toEqual([...REMEDIATING_ROLES, ...REMEDIATING_ROLES].sort());
      const s = remediationStatements(eks, role);
      for (const st of s) {
        expect(st.Condition, st.Sid).toBeDefined();
        expect(Object.keys(st.Condition), st.Sid).toEqual(['Null']);
        expect(Object.values(st.Condition.Null), st.Sid).toEqual(['false']);
        expect(tagKeysIn(st), st.Sid).toHaveLength(1);
      }
      expect(s.flatMap(tagKeysIn).sort()).toEqual(['eks:cluster-name', 'eks:eks-cluster-name']);
      // Self-managed/eksctl nodes carry only kubernetes.io/cluster/<name>: one statement per opted-in cluster.
      expect(remediationStatements(selfManaged, role).flatMap(tagKeysIn).sort()).toEqual([
        'eks:cluster-name',
        'eks:eks-cluster-name',
        'kubernetes.io/cluster/legacy-1',
        'kubernetes.io/cluster/payments',
      ]);
      expect(fnByHandler('EnforceInstances').Properties.Environment.Variables.SCOPE).toBe('eks');
    },
  );

  it.each(REMEDIATING_ROLES)('scope all (--param="scope=all"): %s has one statement, no condition; SCOPE=all', (role) => {
    const s = remediationStatements(all, role);
    expect(s).toHaveLength(1);
    expect(s[0].Condition).toBeUndefined();
    expect(all.Resources.EnforceInstancesLambdaFunction.Properties.Environment.Variables.SCOPE).toBe('all');
  });

  it('node group rollouts (UpdateNodegroupVersion) are granted only when opted in', () => {
    const rollout = (tpl: any) => iamStatements(tpl).filter((s) => asArray(s.statement.Action).includes('eks:UpdateNodegroupVersion'));
    expect(rollout(eks)).toEqual([]);
    expect(
      rollout(selfManaged)
        .map((s) => s.resource)
        .sort(),
    ).toEqual(['BackfillRole', 'EnforceNodegroupsRole']);
  });

  it('every function runs as its own role, assumable only by Lambda; no framework default role', () => {
    expect(t.Resources.IamRoleLambdaExecution).toBeUndefined();
    const roles = functions().map(([id, fn]) => {
      const ref = fn.Properties.Role?.['Fn::GetAtt'];
      expect(ref?.[1], id).toBe('Arn');
      expect(t.Resources[ref[0]]?.Type, id).toBe('AWS::IAM::Role');
      return ref[0];
    });
    expect(new Set(roles).size).toBe(roles.length);
    // Function roles trust Lambda; the one other role is the sweep schedule's, trusted by Scheduler of this account.
    for (const [id] of resourcesOfType(t, 'AWS::IAM::Role')) {
      const trust = t.Resources[id].Properties.AssumeRolePolicyDocument.Statement;
      if (roles.includes(id))
        expect(trust, id).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
      else
        expect([id, trust]).toEqual([
          'SweepSchedulerRole',
          [
            {
              Effect: 'Allow',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        ]);
    }
  });

  it('the function runs as its own role, on nodejs22.x, with an on-failure destination', () => {
    const fn = fnByHandler('EnforceInstances');
    expect(fn.Properties.Runtime).toBe('nodejs22.x');
    expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': ['EnforceInstancesRole', 'Arn'] });
    expect(fn.Properties.ReservedConcurrentExecutions).toBeGreaterThan(0);
    const [, conf] = resourcesOfType(t, 'AWS::Lambda::EventInvokeConfig')[0]!;
    expect(JSON.stringify(conf.Properties.DestinationConfig.OnFailure)).toContain('FailedInvocationsQueue');
  });

  // The consumer is invoked synchronously by its event source: an on-failure destination would never fire;
  // its failed items go to the remediation DLQ by the queue's redrive policy (asserted below).
  it('every function has reserved concurrency; every asynchronously invoked one an on-failure destination', () => {
    const confs = resourcesOfType(t, 'AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    for (const [id, fn] of functions()) {
      expect(fn.Properties.ReservedConcurrentExecutions, id).toBeGreaterThan(0);
      const conf = confs.find((c) => c.FunctionName?.Ref === id);
      if (id === CONSUMER) expect(conf, id).toBeUndefined();
      else expect(JSON.stringify(conf?.DestinationConfig?.OnFailure), id).toContain('FailedInvocationsQueue');
    }
  });

  it('README: the reserved concurrency it states is the sum the default template reserves', () => {
    const reserved = functions().reduce((sum, [, fn]) => sum + fn.Properties.ReservedConcurrentExecutions, 0);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /functions\s+reserve (\d+) concurrent executions[\s\S]*?concurrency\s+quota must be at least (\d+)/.exec(readme);
    expect(m, 'README Deploy section').not.toBeNull();
    expect(Number(m![1])).toBe(reserved);
    expect(Number(m![2])).toBe(reserved + 100);
  });

  it('alarms: depth of every queue and Errors of every function, all notifying the alarm topic', () => {
    const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const on = (metric: string, dim: (v: any) => boolean) =>
      alarms.filter(
        (a) =>
          a.MetricName === metric &&
          a.Dimensions.some((d: any) => dim(d.Value)) &&
          a.Threshold === 0 &&
          a.ComparisonOperator === 'GreaterThanThreshold',
      );
    // Every queue that only ever holds failures alarms on depth; the work queue is busy by design, so its alarm
    // is on the age of its oldest message (a stuck drain), asserted below.
    for (const [id] of resourcesOfType(t, 'AWS::SQS::Queue')) {
      const a = on('ApproximateNumberOfMessagesVisible', (v) => v?.['Fn::GetAtt']?.[0] === id && v['Fn::GetAtt'][1] === 'QueueName');
      expect(a, id).toHaveLength(id === 'RemediationQueue' ? 0 : 1);
    }
    for (const [id] of functions())
      expect(
        on('Errors', (v) => v?.Ref === id),
        id,
      ).toHaveLength(1);
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  it('the backfill is a durable function: DurableConfig on it, and its role may checkpoint only its own executions', () => {
    expect(t.Resources.BackfillLambdaFunction.Properties.DurableConfig).toEqual({ ExecutionTimeout: 86400, RetentionPeriodInDays: 14 });
    const checkpoint = statementsOf(t, 'BackfillRole').filter((st) => asArray(st.Action).includes('lambda:CheckpointDurableExecution'));
    expect(checkpoint.map((st) => [[...asArray(st.Action)].sort(), st.Resource])).toEqual([
      [
        ['lambda:CheckpointDurableExecution', 'lambda:GetDurableExecutionState'],
        { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:imds-guard-prod-backfill:*' },
      ],
    ]);
    // The self-invocation chain is gone.
    expect(statementsOf(t, 'BackfillRole').flatMap((st) => asArray(st.Action))).not.toContain('lambda:InvokeFunction');
  });

  it('event functions reach only their own Region (their events come from it); the backfill and the consumer every Region', () => {
    const regionsOf = (role: string) =>
      new Set(
        iamStatements(selfManaged)
          .filter(({ resource }) => resource === role)
          .flatMap(({ statement }) => asArray(statement.Resource).map((r) => target(selfManaged, r)))
          .map((arn) => /^arn:\$\{AWS::Partition\}:(?:ec2|eks):(\$\{AWS::Region\}|[^:]*):/.exec(arn)?.[1])
          .filter((region) => region !== undefined),
      );
    for (const role of ['EnforceInstancesRole', 'EnforceLaunchTemplatesRole', 'EnforceNodegroupsRole'])
      expect(regionsOf(role), role).toEqual(new Set(['${AWS::Region}']));
    expect(regionsOf('BackfillRole')).toEqual(new Set(['*']));
    // A multi-Region backfill's sweep queues instances of other Regions onto this Region's queue.
    expect(regionsOf('RemediateInstancesRole')).toEqual(new Set(['*']));
  });

  it('someone receives the alarms: an email subscription with alarmEmail, and the topic ARN as an output', () => {
    expect(resourcesOfType(eks, 'AWS::SNS::Subscription').filter(([, s]) => s.Properties.TopicArn?.Ref === 'AlarmTopic')).toEqual([]);
    const subs = resourcesOfType(selfManaged, 'AWS::SNS::Subscription').filter(([, s]) => s.Properties.TopicArn?.Ref === 'AlarmTopic');
    expect(subs.map(([, s]) => s.Properties)).toEqual([
      { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com' },
    ]);
    expect(t.Outputs.AlarmTopicArn).toEqual({ Value: { Ref: 'AlarmTopic' } });
  });
});

describe('npx osls package: remediation queue, consumer, sweep (issue 13)', () => {
  const consumer = (tpl: any) => tpl.Resources[CONSUMER];
  const mapping = (tpl: any) => {
    const m = resourcesOfType(tpl, 'AWS::Lambda::EventSourceMapping').filter(
      ([, r]) => r.Properties.EventSourceArn?.['Fn::GetAtt']?.[0] === 'RemediationQueue',
    );
    expect(m).toHaveLength(1);
    return m[0]![1].Properties;
  };
  const alarm = (id: string) => {
    const a = t.Resources[id];
    expect(a?.Type, id).toBe('AWS::CloudWatch::Alarm');
    expect(a.Properties.AlarmActions, id).toEqual([{ Ref: 'AlarmTopic' }]);
    return a.Properties;
  };

  it('the queue: KMS AuditKey, redrive to its DLQ after maxReceives, visibility >= 6x the consumer timeout', () => {
    for (const [tpl, receives] of [
      [eks, 8],
      [tuned, 3],
    ] as const) {
      const q = tpl.Resources.RemediationQueue.Properties;
      expect(q.KmsMasterKeyId).toEqual({ Ref: 'AuditKey' });
      expect(q.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': ['RemediationDeadLetterQueue', 'Arn'] },
        maxReceiveCount: receives,
      });
      expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(6 * consumer(tpl).Properties.Timeout);
      expect(consumer(tpl).Properties.Environment.Variables.MAX_RECEIVES).toBe(String(receives));
      const dlq = tpl.Resources.RemediationDeadLetterQueue.Properties;
      expect(dlq.KmsMasterKeyId).toEqual({ Ref: 'AuditKey' });
      // A standard queue's DLQ keeps the original enqueue time: it must outlive the source queue's retention.
      expect(dlq.MessageRetentionPeriod).toBeGreaterThan(q.MessageRetentionPeriod);
    }
    expect(consumer(eks).Properties.Timeout).toBe(60);
  });

  it('the event source: batches of 10, no batching window, partial batch failures, MaximumConcurrency from the param', () => {
    for (const [tpl, concurrency] of [
      [eks, 2],
      [tuned, 7],
    ] as const) {
      const m = mapping(tpl);
      expect(m.FunctionName).toEqual({ 'Fn::GetAtt': [CONSUMER, 'Arn'] });
      expect(m).toMatchObject({ BatchSize: 10, MaximumBatchingWindowInSeconds: 0, FunctionResponseTypes: ['ReportBatchItemFailures'] });
      expect(m.ScalingConfig).toEqual({ MaximumConcurrency: concurrency });
      const fn = consumer(tpl).Properties;
      // Reserved concurrency below the event source's maximum would throttle the poller.
      expect(fn.ReservedConcurrentExecutions).toBeGreaterThanOrEqual(concurrency);
      expect(fn.Environment.Variables.QUEUE_CONCURRENCY).toBe(String(concurrency));
      expect(fn.Environment.Variables.REMEDIATION_QUEUE_URL).toEqual({ Ref: 'RemediationQueue' });
      expect(fn.Environment.Variables.IDEMPOTENCY_TABLE).toEqual({ Ref: 'IdempotencyTable' });
    }
    expect(consumer(eks).Properties.Handler).toBe('functions/remediate-instances.handler');
  });

  it('every event function and the backfill get REMEDIATION_QUEUE_URL; notify-slack and publish-findings do not', () => {
    for (const [id, fn] of functions()) {
      const url = fn.Properties.Environment?.Variables?.REMEDIATION_QUEUE_URL;
      // enforce-findings makes the change itself: it closes the finding with the outcome (issue 15).
      // notify-slack and publish-findings read the audit topic; they change nothing.
      if (['NotifySlackLambdaFunction', 'EnforceFindingsLambdaFunction', 'PublishFindingsLambdaFunction'].includes(id))
        expect(url, id).toBeUndefined();
      else expect(url, id).toEqual({ Ref: 'RemediationQueue' });
    }
  });

  it('the sweep: every sweepSchedule, the backfill in the stack mode for its Region, retries and a DLQ', () => {
    const s = eks.Resources.SweepSchedule;
    expect(s.Type).toBe('AWS::Scheduler::Schedule');
    expect(s.Properties.ScheduleExpression).toBe('rate(6 hours)');
    expect(s.Properties.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    const target = s.Properties.Target;
    expect(target.Arn).toEqual({ 'Fn::Sub': '${BackfillLambdaFunction.Arn}:$LATEST' });
    expect(target.RoleArn).toEqual({ 'Fn::GetAtt': ['SweepSchedulerRole', 'Arn'] });
    const input = JSON.parse(target.Input['Fn::Sub'].replace('${AWS::Region}', 'eu-central-1'));
    expect(input).toEqual({ mode: 'enforce', sweep: true, regions: ['eu-central-1'] });
    expect(eks.Resources.BackfillLambdaFunction.Properties.Environment.Variables.MODE).toBe(input.mode);
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
  });

  it('sweepSchedule=off: no schedule and no scheduler role', () => {
    expect(resourcesOfType(tuned, 'AWS::Scheduler::Schedule')).toEqual([]);
    expect(tuned.Resources.SweepSchedulerRole).toBeUndefined();
    expect(eks.Resources.SweepSchedulerRole).toBeDefined();
  });

  it('a bad remediation param fails the package, naming it', () => {
    const bad: [string, string][] = [
      ['remediationConcurrency', '1'],
      ['maxReceives', '0'],
      ['sweepSchedule', 'every 6 hours'],
    ];
    for (const [param, value] of bad) {
      let out = '';
      try {
        packagedTemplate({ [param]: value });
      } catch (e) {
        out = String((e as { stdout?: Buffer }).stdout ?? e);
      }
      expect(out, param).toMatch(new RegExp(`param ${param} must be`));
    }
  }, 120_000);

  it('the scheduler role may only invoke the backfill and send to the events DLQ (and use its key)', () => {
    expect(statementsOf(eks, 'SweepSchedulerRole').map((s) => [s.Effect, [...asArray(s.Action)].sort(), s.Resource, s.Condition])).toEqual([
      ['Allow', ['lambda:InvokeFunction'], { 'Fn::Sub': '${BackfillLambdaFunction.Arn}:$LATEST' }, undefined],
      ['Allow', ['sqs:SendMessage'], { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] }, undefined],
      ['Allow', ['kms:Decrypt', 'kms:GenerateDataKey'], { 'Fn::GetAtt': ['AuditKey', 'Arn'] }, undefined],
    ]);
  });

  it('alarms: failed records, DLQ depth, consumer errors and a stuck drain, on the alarm topic', () => {
    const env = eks.Resources.RemediateInstancesLambdaFunction.Properties.Environment.Variables;
    expect(alarm('FailuresAlarm')).toMatchObject({
      Namespace: env.POWERTOOLS_METRICS_NAMESPACE,
      // lib/shell/observability.ts counts each `failed` record as `failures`.
      MetricName: 'failures',
      Dimensions: [{ Name: 'service', Value: env.POWERTOOLS_SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm('RemediationDeadLetterDepthAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['RemediationDeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm('RemediateInstancesErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: CONSUMER } }],
      Threshold: 0,
    });
    expect(alarm('RemediationQueueAgeAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['RemediationQueue', 'QueueName'] } }],
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('the consumer role: its log group, the queue, the topic, the key, the ledger and Modify; nothing else', () => {
    expect([...new Set(actionsOf(eks, 'RemediateInstancesRole'))].sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'ec2:ModifyInstanceMetadataOptions',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sns:Publish',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ]);
    const sqs = statementsOf(eks, 'RemediateInstancesRole').filter((s) => asArray(s.Action).some((a: string) => a.startsWith('sqs:')));
    expect(sqs.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': ['RemediationQueue', 'Arn'] }]);
    const logs = statementsOf(eks, 'RemediateInstancesRole').find((s) => asArray(s.Action).includes('logs:PutLogEvents'));
    expect(logs.Resource['Fn::Sub']).toMatch(/:log-group:\/aws\/lambda\/imds-guard-prod-remediateInstances:\*$/);
  });

  it('enforce-instances queues changes and no longer modifies instances; the backfill may queue and tag the queue', () => {
    const enforce = actionsOf(eks, 'EnforceInstancesRole');
    expect(enforce).not.toContain('ec2:ModifyInstanceMetadataOptions');
    expect(actionsOf(all, 'EnforceInstancesRole')).not.toContain('ec2:ModifyInstanceMetadataOptions');
    const sends = (role: string) =>
      statementsOf(eks, role)
        .filter((s) => asArray(s.Statement ?? s.Action).some((a: string) => a.startsWith('sqs:')))
        .filter((s) => s.Resource?.['Fn::GetAtt']?.[0] === 'RemediationQueue')
        .flatMap((s) => asArray(s.Action))
        .sort();
    expect(sends('EnforceInstancesRole')).toEqual(['sqs:SendMessage']);
    expect(sends('BackfillRole')).toEqual(['sqs:SendMessage', 'sqs:TagQueue']);
    // Nobody else may write to the queue or consume it.
    const touching = iamStatements(eks)
      .filter(({ statement }) => JSON.stringify(statement.Resource ?? '').includes('"RemediationQueue"'))
      .map((s) => s.resource);
    expect([...new Set(touching)].sort()).toEqual(['BackfillRole', 'EnforceInstancesRole', 'RemediateInstancesRole']);
  });

  it("the rule drops the consumer's own ModifyInstanceMetadataOptions calls", () => {
    const consumerRole = t.Resources.RemediateInstancesRole.Properties.RoleName;
    expect(consumerRole).toBe('imds-guard-prod-eu-west-1-remediate-instances');
    const e = sampleEvent('modify-metadata-options-revert');
    expect(rulesTargeting(e)).toEqual(['EnforceInstancesLambdaFunction']);
    e.detail.userIdentity.sessionContext.sessionIssuer.userName = consumerRole;
    e.detail.userIdentity.sessionContext.sessionIssuer.arn = `arn:aws:iam::111122223333:role/${consumerRole}`;
    expect(rulesTargeting(e)).toEqual([]);
    expect(fnByHandler('EnforceInstances').Properties.Environment.Variables.SELF_ROLE_NAMES.split(',')).toContain(consumerRole);
  });
});

describe('publish-findings (issue 15: Security Hub as a consumer of the audit topic)', () => {
  let hubOn: any;
  beforeAll(() => {
    hubOn = effectiveTemplate(packagedTemplate({ securityHub: 'true' }));
  }, 180_000);
  const importers = (tpl: any) =>
    [
      ...new Set(
        iamStatements(tpl)
          .filter(({ statement }) => asArray(statement.Action).includes('securityhub:BatchImportFindings'))
          .flatMap(({ resource }) => {
            const r = tpl.Resources[resource];
            return r.Type === 'AWS::IAM::Policy' ? r.Properties.Roles.map((x: any) => x.Ref) : [resource];
          }),
      ),
    ].sort();

  it('always deployed, its role a self role; subscribed, and allowed to import, only with securityHub "true"', () => {
    const role = t.Resources.PublishFindingsRole.Properties.RoleName;
    expect(fnByHandler('EnforceInstances').Properties.Environment.Variables.SELF_ROLE_NAMES.split(',')).toContain(role);
    expect(eks.Resources.PublishFindingsLambdaFunction.Properties.Role).toEqual({ 'Fn::GetAtt': ['PublishFindingsRole', 'Arn'] });
    expect(t.Resources.PublishFindingsLogGroup).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    for (const id of ['PublishFindingsSubscription', 'PublishFindingsInvokePermission', 'SecurityHubFindingsPolicy'])
      expect(t.Resources[id].Condition, id).toBe('SecurityHubEnabled');

    const subs = (tpl: any) =>
      resourcesOfType(tpl, 'AWS::SNS::Subscription').filter(
        ([, s]) => s.Properties.Endpoint?.['Fn::GetAtt']?.[0] === 'PublishFindingsLambdaFunction',
      );
    expect(subs(eks)).toEqual([]);
    expect(importers(eks)).toEqual([]);
    expect(subs(hubOn).map(([, s]) => s.Properties)).toEqual([
      expect.objectContaining({
        TopicArn: { Ref: 'AuditTopic' },
        Endpoint: { 'Fn::GetAtt': ['PublishFindingsLambdaFunction', 'Arn'] },
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['PublishFindingsDeadLetterQueue', 'Arn'] } },
      }),
    ]);
    // No event function, consumer or backfill imports findings any more: only publish-findings.
    expect(importers(hubOn)).toEqual(['PublishFindingsRole']);
    expect(hubOn.Resources.PublishFindingsInvokePermission.Properties).toMatchObject({
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: 'AuditTopic' },
    });
  });

  it('the subscription DLQ takes only the audit topic; its depth, the errors and refused findings alarm', () => {
    const dlq = resourcePolicyStatements(hubOn).filter(({ resource }) => resource === 'PublishFindingsDeadLetterQueuePolicy');
    expect(dlq.map(({ statement }) => [statement.Principal, statement.Action, statement.Condition])).toEqual([
      [{ Service: 'sns.amazonaws.com' }, 'sqs:SendMessage', { ArnEquals: { 'aws:SourceArn': { Ref: 'AuditTopic' } } }],
    ]);
    const alarms = resourcesOfType(hubOn, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms.filter((a) => a.MetricName === 'findingsFailed')).toHaveLength(1);
    expect(alarms.filter((a) => a.Dimensions.some((d: any) => d.Value?.Ref === 'PublishFindingsLambdaFunction'))).toHaveLength(1);
    // The topic lets this stack subscribe the function (the Deny lists every configured endpoint).
    const deny = resourcePolicyStatements(hubOn).find(({ statement }) => statement.Sid === 'DenySubscribeExceptConfiguredEndpoints');
    expect(JSON.stringify(deny?.statement.Condition)).toContain('PublishFindingsLambdaFunction');
  });
});
