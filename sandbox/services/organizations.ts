// AWS Organizations (JSON 1.1, `AWSOrganizationsV20161128`, served from its home Region): DescribeOrganization,
// ListAccounts, ListAccountsForParent and ListOrganizationalUnitsForParent over sandbox/accounts.ts, paged 20 at
// a time as AWS does by default. The sandbox's OUs are the accounts' parents, one level under the root.
import type * as org from '@aws-sdk/client-organizations';
import type { OrgAccount } from '../accounts.js';
import { AwsError } from '../errors.js';
import { epoch, type Json11Service } from '../protocol/json11.js';
import type { Ctx } from '../runtime.js';
import { page } from './paging.js';

function organization(ctx: Ctx) {
  const accounts = ctx.rt.accounts;
  const o = accounts?.organization;
  if (!accounts || !o || !accounts.inOrganization(ctx.rt.state.accountId)) {
    throw new AwsError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.');
  }
  return { o, accounts };
}

function accountView(o: { id: string; managementAccountId: string }, a: OrgAccount) {
  return {
    Id: a.Id,
    Arn: `arn:aws:organizations::${o.managementAccountId}:account/${o.id}/${a.Id}`,
    Email: a.Email,
    Name: a.Name,
    Status: a.Status,
    State: a.Status,
    JoinedMethod: a.Id === o.managementAccountId ? 'CREATED' : 'INVITED',
    JoinedTimestamp: epoch(a.JoinedTimestamp),
  };
}

function listed(ctx: Ctx, input: { MaxResults?: number; NextToken?: string }, scope: string, filter: (a: OrgAccount) => boolean) {
  const { o, accounts } = organization(ctx);
  const max = input.MaxResults ?? 20;
  if (max < 1 || max > 20) throw new AwsError('InvalidInputException', 'You provided a value that does not match the required pattern.');
  const bad = () => new AwsError('InvalidInputException', 'The NextToken is not valid.');
  const { items, next } = page(accounts.members().filter(filter), max, input.NextToken, scope, bad);
  return { Accounts: items.map((a) => accountView(o, a)), ...(next ? { NextToken: next } : {}) };
}

/** The root or an OU some account is in; anything else is ParentNotFoundException, as in AWS. */
function knownParent(ctx: Ctx, id: string | undefined): string {
  const { o, accounts } = organization(ctx);
  const parent = id ?? '';
  const known = parent === o.rootId || accounts.members().some((a) => a.ParentId === parent);
  if (!/^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/.test(parent) || !known) {
    throw new AwsError('ParentNotFoundException', "We can't find a root or OU with the ParentId that you specified.");
  }
  return parent;
}

export const organizationsService: Json11Service = {
  target: 'AWSOrganizationsV20161128',
  namespace: 'com.amazonaws.organizations.v20161128',
  throttle: () => new AwsError('TooManyRequestsException', "AWS Organizations can't complete your request because of too many requests."),
  server: () =>
    new AwsError('ServiceException', "AWS Organizations can't complete your request because of an internal service error.", 500),
  handlers: {
    DescribeOrganization(ctx: Ctx) {
      const { o, accounts } = organization(ctx);
      const mgmt = accounts.members().find((a) => a.Id === o.managementAccountId);
      return {
        Organization: {
          Id: o.id,
          Arn: `arn:aws:organizations::${o.managementAccountId}:organization/${o.id}`,
          FeatureSet: 'ALL',
          MasterAccountArn: `arn:aws:organizations::${o.managementAccountId}:account/${o.id}/${o.managementAccountId}`,
          MasterAccountId: o.managementAccountId,
          MasterAccountEmail: mgmt?.Email ?? `aws+${o.managementAccountId}@example.com`,
          AvailablePolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
        },
      } satisfies Record<string, unknown> & { Organization: Partial<Record<keyof org.Organization, unknown>> };
    },
    ListAccounts: (ctx: Ctx, input: org.ListAccountsRequest) => listed(ctx, input, 'ListAccounts', () => true),
    ListAccountsForParent(ctx: Ctx, input: org.ListAccountsForParentRequest) {
      const parent = knownParent(ctx, input.ParentId);
      return listed(ctx, input, `ListAccountsForParent:${parent}`, (a) => a.ParentId === parent);
    },
    ListOrganizationalUnitsForParent(ctx: Ctx, input: org.ListOrganizationalUnitsForParentRequest) {
      const { o, accounts } = organization(ctx);
      const parent = knownParent(ctx, input.ParentId);
      const ous = parent === o.rootId ? [...new Set(accounts.members().map((a) => a.ParentId))].filter((p) => p !== o.rootId) : [];
      const bad = () => new AwsError('InvalidInputException', 'The NextToken is not valid.');
      const { items, next } = page(ous.sort(), input.MaxResults ?? 20, input.NextToken, `ListOUs:${parent}`, bad);
      return {
        OrganizationalUnits: items.map((id) => ({
          Id: id,
          Name: id,
          Arn: `arn:aws:organizations::${o.managementAccountId}:ou/${o.id}/${id}`,
        })),
        ...(next ? { NextToken: next } : {}),
      };
    },
  },
};
