// Organization deployment (issue 14): `deployment=hub` adds the hub bus, its rules and AssumeRole of the member
// role and changes nothing else; infra/member.yml (the StackSet template) is generated from the hub template.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { FORWARD_ROLE } from '../../infra/member-template.cjs';
import { HUB_NAMES, HUB_PARAMS, memberYaml } from '../../scripts/member-template.mjs';
import { matches } from '../helpers/event-pattern.js';
import { asArray, effectiveTemplate, iamStatements, packagedTemplate, resourcesOfType } from '../helpers/template.js';

const ROOT = join(import.meta.dirname, '../..');
const ORG = HUB_PARAMS.organizationId;
const HUB_ACCOUNT = '111122223333';
const MEMBER_ACCOUNT = '444455556666';
const MEMBER_FILE = join(ROOT, 'infra/member.yml');

let account: any;
let hub: any;
let member: any;
beforeAll(() => {
  account = packagedTemplate();
  hub = packagedTemplate(HUB_PARAMS);
  member = parse(readFileSync(MEMBER_FILE, 'utf8'));
}, 240_000);

const busOf = (t: any) => resourcesOfType(t, 'AWS::Events::EventBus');
const hubBusName = () => busOf(hub)[0]![1].Properties.Name as string;
const rulesOn = (t: any, bus: string | undefined) =>
  resourcesOfType(t, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventBusName === bus && r.Properties.EventPattern);
/** CloudTrail rules only: the Security Hub findings rules (enforce-findings) have no hub-bus twin (issue 15). */
const cloudTrailRulesOn = (t: any, bus: string | undefined) =>
  rulesOn(t, bus).filter(([, r]) => asArray(r.Properties.EventPattern['detail-type']).includes('AWS API Call via CloudTrail'));
const fnEnv = (t: any) => resourcesOfType(t, 'AWS::Lambda::Function').map(([id, f]) => [id, f.Properties.Environment.Variables]);
const noS3Keys = (t: any) => JSON.parse(JSON.stringify(t).replace(/"S3Key":"[^"]*"/g, '"S3Key":"-"'));

/** Fn::Sub strings with the given values (every ${…} must be given). */
function substitute(v: any, values: Record<string, string>): any {
  if (Array.isArray(v)) return v.map((x) => substitute(x, values));
  if (!v || typeof v !== 'object') return v;
  if (typeof v['Fn::Sub'] === 'string')
    return v['Fn::Sub'].replace(/\$\{([\w:]+)\}/g, (_: string, k: string) => {
      const value = values[k];
      if (value === undefined) throw new Error(`no value for \${${k}}`);
      return value;
    });
  if (typeof v.Ref === 'string' && v.Ref in values) return values[v.Ref];
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, values)]));
}
const HUB_VALUES = { 'AWS::Partition': 'aws', 'AWS::AccountId': HUB_ACCOUNT, 'AWS::Region': HUB_NAMES.region };
const MEMBER_VALUES = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': MEMBER_ACCOUNT,
  HubAccountId: HUB_ACCOUNT,
  HubStage: HUB_NAMES.stage,
  HubRegion: HUB_NAMES.region,
  OrganizationId: ORG,
};

/** The member stack as deployed in the hub's Region with the given Access (and the other parameters' defaults). */
function memberDeployed(access: 'read-only' | 'remediate', region = HUB_NAMES.region): any {
  const t = structuredClone(member);
  t.Parameters.Access.Default = access;
  t.Parameters.HubRegion.Default = HUB_NAMES.region;
  t.Parameters['AWS::Region'] = { Default: region };
  return effectiveTemplate(t);
}
const memberRoleStatements = (t: any) =>
  iamStatements(t)
    .filter((s) => s.resource === 'MemberRole')
    .map((s) => s.statement);
const actions = (statements: any[]) => [...new Set(statements.flatMap((s) => asArray(s.Action) as string[]))].sort();

describe('deployment=account (the default) and deployment=hub', () => {
  it('the account template has no hub bus, no AssumeRole and no DEPLOYMENT variable', () => {
    expect(busOf(account)).toEqual([]);
    expect(account.Resources.AssumeMemberRolePolicy).toBeUndefined();
    for (const [id, env] of fnEnv(account)) expect(env.DEPLOYMENT, id).toBeUndefined();
  });

  it('the hub template is the account template plus the hub pieces, nothing changed', () => {
    const bus = hubBusName();
    const t = structuredClone(hub);
    const added = Object.entries(t.Resources as Record<string, any>).filter(
      ([id, r]) =>
        id === 'AssumeMemberRolePolicy' ||
        r.Type === 'AWS::Events::EventBus' ||
        r.Properties.EventBusName === bus ||
        JSON.stringify(r.Properties.SourceArn ?? '').includes(`"${bus}"`),
    );
    // Per event function: the bus, one rule and one permission per twin, the policy.
    expect(added.length).toBe(1 + 2 * cloudTrailRulesOn(account, undefined).length + 1);
    for (const [id] of added) delete t.Resources[id];
    for (const [, env] of fnEnv(t)) for (const k of ['DEPLOYMENT', 'ORGANIZATION_ID', 'MEMBER_ROLE_NAME']) delete env[k];
    delete t.Outputs.HubEventBusArn;
    delete t.Outputs.MemberStackParameters;
    expect(noS3Keys(t)).toEqual(noS3Keys(account));
  });

  it('every CloudTrail rule has a twin on the hub bus: same pattern, same function, retries and DLQ', () => {
    const key = ([, r]: [string, any]) =>
      JSON.stringify([r.Properties.EventPattern, r.Properties.Targets.map((x: any) => ({ ...x, Id: '-' }))]);
    const own = cloudTrailRulesOn(hub, undefined).map(key).sort();
    expect(own.length).toBeGreaterThan(0);
    expect(rulesOn(hub, hubBusName()).map(key).sort()).toEqual(own);
  });

  it('the hub bus accepts PutEvents from the organization only', () => {
    const [, bus] = busOf(hub)[0]!;
    const statements = asArray(bus.Properties.Policy.Statement) as any[];
    expect(statements.length).toBe(1);
    const [s] = statements;
    expect([s.Effect, s.Principal, asArray(s.Action)]).toEqual(['Allow', '*', ['events:PutEvents']]);
    expect(substitute(s.Resource, HUB_VALUES)).toBe(`arn:aws:events:${HUB_NAMES.region}:${HUB_ACCOUNT}:event-bus/${bus.Properties.Name}`);
    expect(s.Condition).toEqual({ StringEquals: { 'aws:PrincipalOrgID': ORG } });
  });

  it('the roles of the functions that act in members may assume imds-guard-member in the organization, nothing else', () => {
    const p = hub.Resources.AssumeMemberRolePolicy.Properties;
    const roles = p.Roles.map((r: any) => r.Ref).sort();
    expect(roles).toEqual([
      'BackfillRole',
      'EnforceInstancesRole',
      'EnforceLaunchTemplatesRole',
      'EnforceNodegroupsRole',
      'RemediateInstancesRole',
    ]);
    expect(p.PolicyDocument.Statement.map((s: any) => [s.Effect, s.Action, substitute(s.Resource, HUB_VALUES), s.Condition])).toEqual([
      ['Allow', 'sts:AssumeRole', 'arn:aws:iam::*:role/imds-guard-member', { StringEquals: { 'aws:ResourceOrgID': ORG } }],
    ]);
    // No other statement of any role grants AssumeRole.
    const others = iamStatements(hub).filter(
      (s) => s.resource !== 'AssumeMemberRolePolicy' && asArray(s.statement.Action).includes('sts:AssumeRole'),
    );
    expect(others).toEqual([]);
  });

  it('every hub function gets DEPLOYMENT=hub, the organization and the member role name', () => {
    for (const [id, env] of fnEnv(hub))
      expect([env.DEPLOYMENT, env.ORGANIZATION_ID, env.MEMBER_ROLE_NAME], id).toEqual(['hub', ORG, 'imds-guard-member']);
  });

  it('bad deployment params fail the package, naming the param', () => {
    const bad: [Record<string, string>, string][] = [
      [{ deployment: 'org' }, 'param deployment must be'],
      [{ deployment: 'hub' }, 'param organizationId must be'],
      [{ deployment: 'hub', organizationId: 'r-1234' }, 'param organizationId must be'],
      [{ organizationId: ORG }, 'param organizationId is only used with deployment=hub'],
    ];
    for (const [params, message] of bad) {
      let out = '';
      try {
        packagedTemplate(params);
      } catch (e) {
        out = String((e as { stdout?: Buffer }).stdout ?? e);
      }
      expect(out, JSON.stringify(params)).toContain(message);
    }
  }, 180_000);
});

describe('infra/member.yml (the member StackSet template)', () => {
  it('is current: `npm run member-template` writes the same file from the hub template', () => {
    expect(readFileSync(MEMBER_FILE, 'utf8')).toBe(memberYaml(hub));
  });

  it('is StackSet-ready: roles and rules only, no deployment bucket, no code, no osls leftovers', () => {
    const types = new Set(Object.values(member.Resources as Record<string, any>).map((r) => r.Type));
    expect([...types].sort()).toEqual(['AWS::Events::Rule', 'AWS::IAM::Role']);
    const text = JSON.stringify(member);
    for (const bad of [
      'ServerlessDeploymentBucket',
      'S3Bucket',
      'S3Key',
      'AWS::Lambda',
      '${param:',
      '${self:',
      '${sls:',
      'Fn::ImportValue',
    ])
      expect(text, bad).not.toContain(bad);
    // Every Ref names a parameter, a pseudo parameter or a resource of this template.
    const refs = [...text.matchAll(/"Ref":"([^"]+)"/g)].map((m) => m[1] ?? '');
    for (const r of refs) expect(r in member.Parameters || r in member.Resources || r.startsWith('AWS::'), r).toBe(true);
  });

  it('the member role trusts only the hub roles that may assume it, only within the organization', () => {
    const trust = member.Resources.MemberRole.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.length).toBe(1);
    const [s] = trust;
    expect([s.Effect, s.Action, Object.keys(s.Principal)]).toEqual(['Allow', 'sts:AssumeRole', ['AWS']]);
    const hubRoles = hub.Resources.AssumeMemberRolePolicy.Properties.Roles.map(
      (r: any) => `arn:aws:iam::${HUB_ACCOUNT}:role/${hub.Resources[r.Ref].Properties.RoleName}`,
    );
    expect(substitute(s.Principal.AWS, MEMBER_VALUES).sort()).toEqual(hubRoles.sort());
    expect(substitute(s.Condition, MEMBER_VALUES)).toEqual({ StringEquals: { 'aws:PrincipalOrgID': ORG } });
    expect(member.Resources.MemberRole.Properties.RoleName).toBe('imds-guard-member');
  });

  it('member permissions: no wildcard action, every action one the code calls, the hub roles EC2/EKS/IAM grants exactly', () => {
    const granted = actions(memberRoleStatements(memberDeployed('remediate')));
    for (const a of granted) expect(a, a).toMatch(/^(ec2|eks|iam):[A-Za-z]+$/);
    const called = calledActions();
    for (const a of granted) expect(called, a).toContain(a);
    const hubRoles = hub.Resources.AssumeMemberRolePolicy.Properties.Roles.map((r: any) => r.Ref);
    const hubGrants = iamStatements(effectiveTemplate(hub)).filter((s) => hubRoles.includes(s.resource));
    expect(granted).toEqual(actions(hubGrants.map((s) => s.statement)).filter((a) => /^(ec2|eks|iam):/.test(a)));
  });

  it('Access=read-only (the default) grants no change; remediate adds exactly the hub roles mutating calls', () => {
    const readOnly = actions(memberRoleStatements(memberDeployed('read-only')));
    const remediate = actions(memberRoleStatements(memberDeployed('remediate')));
    expect(readOnly.filter((a) => /:(Create|Modify|Update|Delete)/.test(a))).toEqual([]);
    expect(remediate.filter((a) => !readOnly.includes(a))).toEqual([
      'ec2:CreateLaunchTemplateVersion',
      'ec2:ModifyInstanceMetadataOptions',
      'ec2:ModifyLaunchTemplate',
    ]);
    expect(member.Parameters.Access.Default).toBe('read-only');
  });

  it('ModifyInstanceMetadataOptions in a member is limited to EKS nodes by tag, as in the hub', () => {
    const modify = memberRoleStatements(memberDeployed('remediate')).filter((s) =>
      asArray(s.Action).includes('ec2:ModifyInstanceMetadataOptions'),
    );
    expect(modify.length).toBeGreaterThan(0);
    for (const s of modify) {
      expect(substitute(s.Resource, MEMBER_VALUES)).toBe(`arn:aws:ec2:*:${MEMBER_ACCOUNT}:instance/*`);
      expect(Object.keys(s.Condition?.Null ?? {}).length, s.Sid).toBe(1);
    }
  });

  it('the roles exist in the hub Region stack only (IAM is global); the rules in every Region', () => {
    const elsewhere = memberDeployed('remediate', 'us-east-1');
    expect(resourcesOfType(elsewhere, 'AWS::IAM::Role')).toEqual([]);
    expect(resourcesOfType(elsewhere, 'AWS::Events::Rule').length).toBe(rulesOn(hub, hubBusName()).length);
    const rule = resourcesOfType(elsewhere, 'AWS::Events::Rule')[0]![1];
    expect(substitute(rule.Properties.Targets[0].RoleArn, MEMBER_VALUES)).toBe(`arn:aws:iam::${MEMBER_ACCOUNT}:role/${FORWARD_ROLE}`);
  });

  it('forwarding: each rule targets the hub bus with the forward role, which may only PutEvents there', () => {
    for (const [id, r] of resourcesOfType(member, 'AWS::Events::Rule')) {
      expect(r.Properties.EventBusName, id).toBeUndefined();
      expect(
        r.Properties.Targets.map((x: any) => x.Arn),
        id,
      ).toEqual([{ Ref: 'HubEventBusArn' }]);
    }
    const role = memberDeployed('remediate').Resources.ForwardRole.Properties;
    expect(role.AssumeRolePolicyDocument.Statement.map((s: any) => s.Principal)).toEqual([{ Service: 'events.amazonaws.com' }]);
    expect(
      iamStatements(memberDeployed('remediate'))
        .filter((s) => s.resource === 'ForwardRole')
        .map((s) => s.statement),
    ).toEqual([{ Sid: 'PutEventsOnHubBus', Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'HubEventBusArn' } }]);
  });

  it('the member rules take what the hub rules take, except the member role own calls', () => {
    const hubRules = rulesOn(hub, hubBusName()).map(([, r]) =>
      substitute(r.Properties.EventPattern, { ...HUB_VALUES, 'AWS::AccountId': MEMBER_ACCOUNT }),
    );
    const memberRules = resourcesOfType(member, 'AWS::Events::Rule').map(([, r]) => substitute(r.Properties.EventPattern, MEMBER_VALUES));
    expect(memberRules.length).toBe(hubRules.length);
    const samples = readdirSync(join(ROOT, 'events')).map((f) => JSON.parse(readFileSync(join(ROOT, 'events', f), 'utf8')));
    let taken = 0;
    for (const e of samples) {
      const event = { ...e, account: MEMBER_ACCOUNT };
      const byHub = hubRules.map((p) => matches(p, event));
      expect(memberRules.map((p) => matches(p, event))).toEqual(byHub);
      if (byHub.some(Boolean)) {
        taken++;
        const self = structuredClone(event);
        self.detail.userIdentity = {
          type: 'AssumedRole',
          sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/imds-guard-member` } },
        };
        expect(
          memberRules.some((p) => matches(p, self)),
          e.detail.eventName,
        ).toBe(false);
      }
    }
    expect(taken).toBeGreaterThan(3);
  });
});

/** IAM actions of the EC2, EKS and IAM SDK commands and paginators that lib/ uses. */
function calledActions(): string[] {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, f.name);
      if (f.isDirectory()) walk(path);
      else if (f.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-(ec2|eks|iam)'/g))
          for (const name of (m[1] ?? '').split(',').map((s) => s.replace(/^\s*type\s+/, '').trim()))
            if (/Command$/.test(name)) out.add(`${m[2]}:${name.replace(/Command$/, '')}`);
            else if (/^paginate/.test(name)) out.add(`${m[2]}:${name.replace(/^paginate/, '')}`);
      }
    }
  };
  walk(join(ROOT, 'lib'));
  return [...out].sort();
}
