// osls plugin: hub vs account deployment (issue 14, docs/org-rollout.md). Params (serverless.yml):
//   deployment      `account` (default): one account, the template exactly as without this plugin
//                   `hub`: also runs the functions for the organization's member accounts
//   organizationId  o-…, required with `hub` (the bus policy and the AssumeRole condition name it)
// In hub mode, at package time:
//   - every CloudTrail rule of the functions gets a twin on the hub bus (`<service>-<stage>-hub`, created by osls
//     for the first rule naming it), with the same pattern, retries and DLQ: member accounts forward their events
//     there unchanged (`account` = the member), so both rule sets come from the one pattern in serverless.yml;
//   - the hub bus's policy lets only principals of the organization PutEvents (aws:PrincipalOrgID);
//   - the roles of `custom.deployment.memberFunctions` may sts:AssumeRole the member role, in the organization only;
//   - every function gets DEPLOYMENT, ORGANIZATION_ID and MEMBER_ROLE_NAME;
//   - outputs name the bus and the member stack's parameters (infra/member.yml, generated from this template).
'use strict';

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** The param values of the deployment, checked (a bad value fails the package, naming the param). */
function deploymentParams(custom) {
  const { mode, organizationId = '' } = custom ?? {};
  if (mode !== 'account' && mode !== 'hub') throw new Error(`param deployment must be account or hub, not "${mode}"`);
  if (mode === 'hub' && !ORGANIZATION_ID.test(organizationId))
    throw new Error(`param organizationId must be an organization id (o-…) with deployment=hub, not "${organizationId}"`);
  if (mode === 'account' && organizationId) throw new Error('param organizationId is only used with deployment=hub');
  return custom;
}

/** The hub bus's policy: PutEvents from principals of the organization, on this bus only. */
function busPolicy(busName, organizationId) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OrganizationMembersForwardEvents',
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${busName}` },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
      },
    ],
  };
}

/** The member role the hub's function roles may assume: any account's, as long as it is in the organization. */
function assumeMemberPolicy(roles, memberRoleName, organizationId) {
  return {
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: 'assume-member-role',
      Roles: roles.map((r) => ({ Ref: r })),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AssumeMemberRoleInOrganization',
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/${memberRoleName}` },
            Condition: { StringEquals: { 'aws:ResourceOrgID': organizationId } },
          },
        ],
      },
    },
  };
}

class Deployment {
  constructor(serverless) {
    this.serverless = serverless;
    const hub = (fn) => () => {
      const d = deploymentParams(serverless.service.custom.deployment);
      if (d.mode === 'hub') fn(d);
    };
    this.hooks = {
      // Before bundling: a bad param fails at once.
      initialize: () => deploymentParams(serverless.service.custom.deployment),
      'before:package:compileFunctions': hub((d) => this.environment(d)),
      'before:package:compileEvents': hub((d) => this.twinRules(d)),
      'after:package:compileEvents': hub((d) => this.resources(d)),
    };
  }

  get service() {
    return this.serverless.service;
  }

  environment(d) {
    Object.assign(this.service.provider.environment, {
      DEPLOYMENT: 'hub',
      ORGANIZATION_ID: d.organizationId,
      MEMBER_ROLE_NAME: d.memberRoleName,
    });
  }

  twinRules(d) {
    for (const name of this.service.getAllFunctions()) {
      const fn = this.service.getFunction(name);
      // CloudTrail rules only: Security Hub findings (enforce-findings) are acted on in the hub's own account.
      const cloudTrail = (e) => [].concat(e.eventBridge.pattern['detail-type'] ?? []).includes('AWS API Call via CloudTrail');
      const rules = (fn.events ?? []).filter((e) => e.eventBridge?.pattern && !e.eventBridge.eventBus && cloudTrail(e));
      for (const e of rules) fn.events.push({ eventBridge: { ...structuredClone(e.eventBridge), eventBus: d.hubBusName } });
    }
  }

  resources(d) {
    const t = this.service.provider.compiledCloudFormationTemplate;
    const naming = this.serverless.getProvider('aws').naming;
    const busId = naming.getEventBridgeEventBusLogicalId(d.hubBusName);
    if (!t.Resources[busId]) throw new Error(`hub deployment: no rule created the bus ${d.hubBusName}`);
    t.Resources[busId].Properties.Policy = busPolicy(d.hubBusName, d.organizationId);
    const roles = d.memberFunctions.map((f) => {
      const role = this.service.getFunction(f).role;
      if (typeof role !== 'string') throw new Error(`hub deployment: function ${f} has no role of its own`);
      return role;
    });
    t.Resources.AssumeMemberRolePolicy = assumeMemberPolicy(roles, d.memberRoleName, d.organizationId);
    t.Outputs = {
      ...t.Outputs,
      HubEventBusArn: { Description: 'HubEventBusArn of the member stacks (infra/member.yml)', Value: { 'Fn::GetAtt': [busId, 'Arn'] } },
      MemberStackParameters: {
        Description: 'The other parameters of the member StackSet (infra/member.yml)',
        Value: {
          'Fn::Sub': `HubAccountId=\${AWS::AccountId} HubRegion=\${AWS::Region} HubStage=${this.service.provider.stage} OrganizationId=${d.organizationId}`,
        },
      },
    };
  }
}

module.exports = Deployment;
module.exports.deploymentParams = deploymentParams;
