// The member stack (infra/member.yml, issue 14) derived from the packaged HUB template, so that each event
// pattern and each permission is written once (serverless.yml, infra/iam.yml and the files they include):
//   - one forwarding rule per hub-bus rule, with the same pattern, on the member's default bus, targeting the hub
//     bus; its loop guard names the member role in that account instead of the hub's function roles;
//   - the member role: trusted by the hub roles that may assume it (AssumeMemberRolePolicy) and only within the
//     organization; its permissions are those roles' EC2, EKS and IAM statements (the calls they make in an
//     account), in any Region of the member account, the mutating ones only with Access=remediate.
// Plain CloudFormation, for a service-managed StackSet: no deployment bucket, no code. IAM is global, so the two
// roles are created in the stack of HubRegion only (StackSet RegionOrder: HubRegion first).
// `npm run member-template` writes infra/member.yml; test/deploy/org.test.ts fails when the file is stale.
'use strict';

const MEMBER_SERVICES = new Set(['ec2', 'eks', 'iam']);
const MUTATING = /^(ec2|eks):(Create|Modify|Update|Delete)/;
const NO_VALUE = { Ref: 'AWS::NoValue' };
const FORWARD_ROLE = 'imds-guard-member-forward';

const asArray = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const sub = (s) => ({ 'Fn::Sub': s });

/** A statement and the Fn::If around it, if any: [condition, statement, whether the statement is the else branch]. */
function unwrap(s) {
  const f = s['Fn::If'];
  if (!f) return { statement: s };
  const inElse = f[1]?.Ref === 'AWS::NoValue';
  return { condition: f[0], statement: inElse ? f[2] : f[1], inElse };
}
const wrap = (condition, s, inElse) => (condition ? { 'Fn::If': inElse ? [condition, NO_VALUE, s] : [condition, s, NO_VALUE] } : s);

/** An ARN of the hub's account and Region, made to name any Region of the account the stack is in. */
function anyRegion(resource) {
  if (typeof resource === 'string') return resource;
  if (typeof resource?.['Fn::Sub'] === 'string') return sub(resource['Fn::Sub'].replaceAll('${AWS::Region}', '*'));
  throw new Error(`member permissions: a member statement names a hub resource: ${JSON.stringify(resource)}`);
}

/** The member-side statements of the hub roles, merged: one statement per resource, condition and Fn::If. */
function memberStatements(hub, roleIds) {
  const merged = new Map();
  for (const id of roleIds)
    for (const policy of hub.Resources[id].Properties.Policies ?? [])
      for (const raw of asArray(policy.PolicyDocument.Statement)) {
        const { condition, statement, inElse } = unwrap(raw);
        const actions = asArray(statement.Action);
        const member = actions.filter((a) => MEMBER_SERVICES.has(a.split(':')[0]));
        if (!member.length) continue;
        if (member.length !== actions.length) throw new Error(`member permissions: ${id} ${statement.Sid} mixes hub and member actions`);
        const resource = asArray(statement.Resource).map(anyRegion);
        const mutating = member.some((a) => MUTATING.test(a));
        if (mutating && !member.every((a) => MUTATING.test(a)))
          throw new Error(`member permissions: ${statement.Sid} mixes reads and writes`);
        const key = JSON.stringify([condition, inElse, mutating, resource, statement.Condition]);
        const m = merged.get(key) ?? {
          sid: statement.Sid,
          condition,
          inElse,
          mutating,
          resource,
          when: statement.Condition,
          actions: new Set(),
        };
        for (const a of member) m.actions.add(a);
        merged.set(key, m);
      }
  const sids = new Map();
  return [...merged.values()].map((m) => {
    const n = (sids.get(m.sid) ?? 0) + 1;
    sids.set(m.sid, n);
    const s = {
      Sid: n === 1 ? m.sid : `${m.sid}${n}`,
      Effect: 'Allow',
      Action: [...m.actions].sort(),
      Resource: m.resource.length === 1 ? m.resource[0] : m.resource,
      ...(m.when ? { Condition: m.when } : {}),
    };
    const inner = wrap(m.condition, s, m.inElse);
    return m.mutating ? { 'Fn::If': ['Remediate', inner, NO_VALUE] } : inner;
  });
}

/** The member's loop guard: the member role's own calls (the hub acting in this account) are not forwarded. */
function memberNotSelf(or, memberRoleName) {
  const issuer = (b) => b?.userIdentity?.sessionContext?.sessionIssuer?.arn?.[0];
  if (!Array.isArray(or) || or.length !== 2 || !issuer(or[0])?.['anything-but'] || issuer(or[1])?.exists !== false)
    throw new Error(`member rules: the hub pattern's $or is not the notSelf filter: ${JSON.stringify(or)}`);
  const arn = sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${memberRoleName}`);
  return [{ userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': [arn] }] } } } }, or[1]];
}

function forwardingRules(hub, busName, memberRoleName) {
  const rules = {};
  const counts = new Map();
  for (const r of Object.values(hub.Resources)) {
    if (r.Type !== 'AWS::Events::Rule' || r.Properties.EventBusName !== busName) continue;
    const fn = r.Properties.Targets[0].Arn['Fn::GetAtt'][0].replace(/LambdaFunction$/, '');
    const n = (counts.get(fn) ?? 0) + 1;
    counts.set(fn, n);
    const pattern = structuredClone(r.Properties.EventPattern);
    pattern.detail.$or = memberNotSelf(pattern.detail.$or, memberRoleName);
    rules[`Forward${fn}${n}`] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `imds-guard: forwards to the hub what the hub's ${fn} rule ${n} takes`,
        State: 'ENABLED',
        EventPattern: pattern,
        Targets: [
          {
            Id: 'hub',
            Arn: { Ref: 'HubEventBusArn' },
            RoleArn: {
              'Fn::If': [
                'IsIamRegion',
                { 'Fn::GetAtt': ['ForwardRole', 'Arn'] },
                sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${FORWARD_ROLE}`),
              ],
            },
            ...(r.Properties.Targets[0].RetryPolicy ? { RetryPolicy: r.Properties.Targets[0].RetryPolicy } : {}),
          },
        ],
      },
    };
  }
  if (!Object.keys(rules).length) throw new Error(`member rules: the hub template has no rule on ${busName}`);
  return rules;
}

/** The hub roles' names with the hub's stage and Region as member parameters. */
function hubPrincipals(hub, roleIds, { service, stage, region }) {
  const prefix = `${service}-${stage}-${region}-`;
  return roleIds.map((id) => {
    const name = hub.Resources[id].Properties.RoleName;
    if (!name?.startsWith(prefix)) throw new Error(`member trust: role ${id} is not named ${prefix}…`);
    return sub(`arn:\${AWS::Partition}:iam::\${HubAccountId}:role/${service}-\${HubStage}-\${HubRegion}-${name.slice(prefix.length)}`);
  });
}

const PARAMETERS = {
  OrganizationId: { Type: 'String', AllowedPattern: '^o-[a-z0-9]{10,32}$', Description: 'The organization (aws:PrincipalOrgID)' },
  HubAccountId: { Type: 'String', AllowedPattern: '^\\d{12}$', Description: 'The account of the hub deployment' },
  HubRegion: { Type: 'String', AllowedPattern: '^[a-z]{2}(-[a-z]+)+-\\d+$', Description: "The hub's Region; the roles are created there" },
  HubStage: { Type: 'String', Default: 'prod', AllowedPattern: '^[A-Za-z0-9-]+$', Description: "The hub's stage (osls --stage)" },
  HubEventBusArn: {
    Type: 'String',
    AllowedPattern: '^arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/[A-Za-z0-9._-]+$',
    Description: 'The hub stack output HubEventBusArn',
  },
  Access: {
    Type: 'String',
    Default: 'read-only',
    AllowedValues: ['read-only', 'remediate'],
    Description: 'read-only: the hub may only read here (a dry run); remediate: it may also fix',
  },
};

/**
 * The member template for a packaged hub template.
 * @example memberTemplate(JSON.parse(readFileSync('.serverless/cloudformation-template-update-stack.json')), { service: 'imds-guard', stage: 'prod', region: 'eu-west-1' })
 */
function memberTemplate(hub, names) {
  const fn = Object.values(hub.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
  const { MEMBER_ROLE_NAME: memberRoleName, DEPLOYMENT } = fn.Properties.Environment.Variables;
  if (DEPLOYMENT !== 'hub') throw new Error('memberTemplate: not a hub template (deployment=hub)');
  const roleIds = hub.Resources.AssumeMemberRolePolicy.Properties.Roles.map((r) => r.Ref);
  const busName = Object.values(hub.Resources).find((r) => r.Type === 'AWS::Events::EventBus').Properties.Name;
  const copied = (names) =>
    Object.fromEntries(names.map((n) => [n, { ...hub.Parameters[n], Description: `As the hub's param ${n.toLowerCase()}` }]));
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'imds-guard member stack: forwards CloudTrail events to the hub and lets the hub remediate here',
    Parameters: { ...PARAMETERS, ...copied(['Scope', 'Rollout']) },
    Conditions: {
      IsIamRegion: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'HubRegion' }] },
      Remediate: { 'Fn::Equals': [{ Ref: 'Access' }, 'remediate'] },
      ScopeIsAll: hub.Conditions.ScopeIsAll,
      RolloutEnabled: hub.Conditions.RolloutEnabled,
    },
    Resources: {
      MemberRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'IsIamRegion',
        Properties: {
          RoleName: memberRoleName,
          Description: 'imds-guard: assumed by the hub functions to enforce IMDSv2 and the hop limit here',
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'HubFunctionRolesInOrganization',
                Effect: 'Allow',
                Principal: { AWS: hubPrincipals(hub, roleIds, names) },
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } },
              },
            ],
          },
          Policies: [
            { PolicyName: 'imds-guard-member', PolicyDocument: { Version: '2012-10-17', Statement: memberStatements(hub, roleIds) } },
          ],
        },
      },
      ForwardRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'IsIamRegion',
        Properties: {
          RoleName: FORWARD_ROLE,
          Description: "imds-guard: EventBridge forwards this account's CloudTrail events to the hub bus",
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'forward-to-hub',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [{ Sid: 'PutEventsOnHubBus', Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'HubEventBusArn' } }],
              },
            },
          ],
        },
      },
      ...forwardingRules(hub, busName, memberRoleName),
    },
  };
}

module.exports = { memberTemplate, FORWARD_ROLE };
