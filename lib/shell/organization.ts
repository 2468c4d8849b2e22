// Which member accounts an org-wide run covers: every active account of the organization (ListAccounts), the
// active accounts under an OU and its child OUs (ListAccountsForParent, ListOrganizationalUnitsForParent), or
// an explicit list. Called once per run from the hub (the management or a delegated administrator account).
// And the organization's accounts as a hub's event gate sees them: ListAccounts (every page), kept for a few
// minutes; an account not in the list triggers one early refresh (a newly joined member), at most once a minute.
import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
  type Account,
} from '@aws-sdk/client-organizations';

/** Where an org-wide run's accounts come from. */
export type AccountSelector = { accounts: string[] } | { org: true } | { ou: string };

const ACCOUNT_ID = /^\d{12}$/;
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ROOT_ID = /^r-[0-9a-z]{4,32}$/;

/** A selector that names something that is not there (a bad account id, an unknown OU). */
export class AccountSelectionError extends Error {
  override name = 'AccountSelectionError';
}

/**
 * Parse a comma list of account ids; a bad one fails naming it. Duplicates are dropped, order is kept.
 * @example
 * parseAccountIds('111111111111, 222222222222'); // ['111111111111', '222222222222']
 */
export function parseAccountIds(list: string): string[] {
  const ids = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids) if (!ACCOUNT_ID.test(id)) throw new AccountSelectionError(`"${id}" is not an AWS account id (12 digits)`);
  if (!ids.length) throw new AccountSelectionError('give at least one account id');
  return [...new Set(ids)];
}

/** Whether `id` has the shape of an OU (`ou-…`) or root (`r-…`) id. */
const isParentId = (id: string): boolean => OU_ID.test(id) || ROOT_ID.test(id);

/** ACTIVE by the newer `State` field, else the older `Status` (both are sent today). */
const active = (a: Account): boolean => (a.State ?? a.Status) === 'ACTIVE';

async function pages<T>(fetch: (token?: string) => Promise<{ items: T[]; next?: string | undefined }>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    out.push(...page.items);
    token = page.next;
  } while (token);
  return out;
}

async function underParent(org: OrganizationsClient, parent: string, seen: Set<string>): Promise<Account[]> {
  if (seen.has(parent)) return [];
  seen.add(parent);
  const accounts = await pages(async (NextToken) => {
    const r = await org.send(new ListAccountsForParentCommand({ ParentId: parent, NextToken }));
    return { items: r.Accounts ?? [], next: r.NextToken };
  });
  const children = await pages(async (NextToken) => {
    const r = await org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parent, NextToken }));
    return { items: (r.OrganizationalUnits ?? []).flatMap((u) => (u.Id ? [u.Id] : [])), next: r.NextToken };
  });
  for (const child of children) accounts.push(...(await underParent(org, child, seen)));
  return accounts;
}

/**
 * The active account ids a selector covers, sorted. An unknown OU fails naming it.
 * @example
 * await selectAccounts(new OrganizationsClient({ region: 'us-east-1' }), { ou: 'ou-ab12-cdef3456' });
 */
export async function selectAccounts(org: OrganizationsClient, sel: AccountSelector): Promise<string[]> {
  if ('accounts' in sel) return sel.accounts;
  let listed: Account[];
  if ('org' in sel)
    listed = await pages(async (NextToken) => {
      const r = await org.send(new ListAccountsCommand({ NextToken }));
      return { items: r.Accounts ?? [], next: r.NextToken };
    });
  else {
    if (!isParentId(sel.ou)) throw new AccountSelectionError(`"${sel.ou}" is not an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)`);
    try {
      listed = await underParent(org, sel.ou, new Set());
    } catch (err) {
      if ((err as { name?: string }).name === 'ParentNotFoundException')
        throw new AccountSelectionError(`OU ${sel.ou} was not found in the organization`);
      throw err;
    }
  }
  const ids = listed.filter(active).flatMap((a) => (a.Id ? [a.Id] : []));
  if (!ids.length) throw new AccountSelectionError(`no active accounts in ${'ou' in sel ? `OU ${sel.ou}` : 'the organization'}`);
  return [...new Set(ids)].sort();
}

/**
 * The Organizations client (a global service; its endpoint is in us-east-1 in the aws partition).
 * @example
 * const org = organizationsClient(3);
 */
export function organizationsClient(maxAttempts = 6): OrganizationsClient {
  return new OrganizationsClient({ region: 'us-east-1', maxAttempts, retryMode: 'adaptive' });
}

export interface OrgAccount {
  id: string;
  name?: string;
  status?: string;
}

/** Every account of the caller's organization (all pages). */
export async function listAccounts(client: OrganizationsClient): Promise<OrgAccount[]> {
  const listed = await pages(async (NextToken) => {
    const r = await client.send(new ListAccountsCommand({ ...(NextToken ? { NextToken } : {}) }));
    return { items: r.Accounts ?? [], next: r.NextToken };
  });
  return listed.flatMap((a) =>
    a.Id ? [{ id: a.Id, ...(a.Name ? { name: a.Name } : {}), ...(a.Status ? { status: a.Status } : {}) }] : [],
  );
}

export interface MembershipOptions {
  ttlMs?: number;
  /** An unknown account refreshes the list early, but not more often than this. */
  refreshMs?: number;
  maxAttempts?: number;
  now?: () => number;
  client?: OrganizationsClient;
}

/**
 * Whether an account is an active member, from a cached ListAccounts.
 * @example
 * const isMember = membership();
 * if (!(await isMember('444455556666'))) reject();
 */
export function membership(opts: MembershipOptions = {}): (account: string) => Promise<boolean> {
  const now = opts.now ?? Date.now;
  const ttl = opts.ttlMs ?? 5 * 60_000;
  const refresh = opts.refreshMs ?? 60_000;
  let client = opts.client;
  let cache: { at: number; active: Set<string> } | undefined;
  const load = async () => {
    client ??= organizationsClient(opts.maxAttempts ?? 3);
    const accounts = await listAccounts(client);
    cache = { at: now(), active: new Set(accounts.filter((a) => !a.status || a.status === 'ACTIVE').map((a) => a.id)) };
    return cache.active;
  };
  return async (account) => {
    const active = cache && now() - cache.at < ttl ? cache.active : await load();
    if (active.has(account)) return true;
    if (cache && now() - cache.at >= refresh) return (await load()).has(account);
    return false;
  };
}
