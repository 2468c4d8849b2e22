// Issue 7: imds-guard's own calls show up in CloudTrail too. An event caused by one of its roles (as the
// deployed template names them) must never trigger it again: no AWS call at all, `ignored: self-caused`.
import { ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as ct from '../../sandbox/cloudtrail.js';
import { clone, loadEvent } from '../helpers/events.js';
import { packagedTemplate, resourcesOfType } from '../helpers/template.js';
import { callCounter, lambdaFor, sandboxIt, startTarget, type Target, createIdempotencyTable } from '../helpers/sandbox.js';
import { launchInstances } from '../helpers/launch.js';

const TABLE = 'imds-guard-e2e-idempotency';
let t: Target;
let w: ct.Where;
/** Function logical ID -> the RoleName of the role it runs as, and SELF_ROLE_NAMES from its environment. */
let roles: { fn: string; roleName: string; selfRoleNames: string }[];

beforeAll(async () => {
  const tpl = packagedTemplate();
  roles = resourcesOfType(tpl, 'AWS::Lambda::Function').map(([fn, r]) => ({
    fn,
    roleName: tpl.Resources[r.Properties.Role['Fn::GetAtt'][0]].Properties.RoleName,
    selfRoleNames: r.Properties.Environment.Variables.SELF_ROLE_NAMES,
  }));
  if (process.env.IMDS_GUARD_E2E_ENDPOINT) return;
  t = await startTarget();
  w = { region: t.region, account: t.sandbox!.state.accountId };
  await createIdempotencyTable(t.endpoint, t.region, TABLE);
}, 120_000);
afterAll(() => t?.close());
afterEach(() => vi.unstubAllEnvs());

/** userIdentity as CloudTrail logs a Lambda function's calls: its execution role, session named after the function. */
function lambdaIdentity(account: string, roleName: string, session: string) {
  return {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLEIMDSGUARD:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${session}`,
    accountId: account,
    accessKeyId: 'ASIAEXAMPLEIMDSGUARD',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLEIMDSGUARD',
        arn: `arn:aws:iam::${account}:role/${roleName}`,
        accountId: account,
        userName: roleName,
      },
      webIdFederationData: {},
      attributes: { creationDate: new Date().toISOString(), mfaAuthenticated: 'false' },
    },
  };
}

async function driftedNode(): Promise<string> {
  const [node] = await launchInstances(t.ec2, 1, 'optional', 2, { 'eks:cluster-name': 'payments' });
  return node!.InstanceId!;
}

/** imds-guard's own CreateLaunchTemplateVersion (its fix of a template), as CloudTrail logs it. */
function createVersionBy(roleName: string) {
  const e = clone(loadEvent('create-launch-template-version'));
  e.detail.userIdentity = lambdaIdentity(w.account, roleName, 'imds-guard-prod-enforceLaunchTemplates');
  e.detail.requestParameters.CreateLaunchTemplateVersionRequest.LaunchTemplateData = {
    MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
  };
  e.detail.eventID = crypto.randomUUID();
  return e;
}

describe('loop guard', () => {
  it("the deployed SELF_ROLE_NAMES is, in every function, exactly the set of the functions' role names", () => {
    const names = new Set(roles.map((r) => r.roleName));
    expect(names.size).toBe(roles.length);
    for (const r of roles) expect(new Set(r.selfRoleNames.split(',')), r.fn).toEqual(names);
  });

  sandboxIt("imds-guard's own ModifyInstanceMetadataOptions and CreateLaunchTemplateVersion: ignored, zero AWS calls", async () => {
    const selfRoleNames = roles[0]!.selfRoleNames;
    const instances = await lambdaFor(t, 'enforce-instances', { SELF_ROLE_NAMES: selfRoleNames, IDEMPOTENCY_TABLE: TABLE });
    const templates = await lambdaFor(t, 'enforce-launch-templates', { SELF_ROLE_NAMES: selfRoleNames, IDEMPOTENCY_TABLE: TABLE });
    const id = await driftedNode();
    const calls = callCounter(t);
    for (const { roleName } of roles) {
      const modify = ct.modifyMetadataOptions(id, w);
      modify.detail.userIdentity = lambdaIdentity(w.account, roleName, 'imds-guard-prod-enforceInstances');
      expect(await instances(modify), roleName).toMatchObject({ status: 'ignored', reason: 'self-caused' });
      expect(await templates(createVersionBy(roleName)), roleName).toMatchObject({ status: 'ignored', reason: 'self-caused' });
    }
    expect(calls.since()).toEqual({});
  });

  sandboxIt('the same events by anyone else are acted on, look-alike role names included', async () => {
    const selfRoleNames = roles[0]!.selfRoleNames;
    const instances = await lambdaFor(t, 'enforce-instances', { SELF_ROLE_NAMES: selfRoleNames, IDENTITY_GATE: 'off' });
    const own = roles.find((r) => r.fn === 'EnforceInstancesLambdaFunction')!.roleName;
    for (const [roleName, session] of [
      ['PlatformAdmin', 'alice'],
      [`${own}-copy`, 'imds-guard-prod-enforceInstances'],
      [`x${own}`, 'imds-guard-prod-enforceInstances'],
    ] as const) {
      const id = await driftedNode();
      await t.ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'optional' }));
      const modify = ct.modifyMetadataOptions(id, w);
      modify.detail.userIdentity = lambdaIdentity(w.account, roleName, session);
      expect(await instances(modify), roleName).toMatchObject({ status: 'done', counts: { remediated: 1 } });
    }
  });
});
