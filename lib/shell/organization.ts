// The organization's accounts as a hub sees them: Organizations ListAccounts (every page), kept for a few
// minutes; an account not in the list triggers one early refresh (a newly joined member), at most once a minute.
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';

export interface OrgAccount {
  id: string;
  name?: string;
  status?: string;
}

/** Organizations is served from its home Region (us-east-1 in the commercial partition). */
function organizationsClient(maxAttempts: number): OrganizationsClient {
  return new OrganizationsClient({ region: 'us-east-1', maxAttempts });
}

/** Every account of the caller's organization (all pages). */
export async function listAccounts(client: OrganizationsClient): Promise<OrgAccount[]> {
  const out: OrgAccount[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(new ListAccountsCommand({ ...(NextToken ? { NextToken } : {}) }));
    for (const a of page.Accounts ?? [])
      if (a.Id) out.push({ id: a.Id, ...(a.Name ? { name: a.Name } : {}), ...(a.Status ? { status: a.Status } : {}) });
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
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
