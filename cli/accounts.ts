// `--accounts`, `--org`, `--ou`: the member accounts an org-wide scan or enforce runs in. Bad input fails as a
// usage error naming it (a bad account id, an unknown OU), before any resource call.
import { AccountSelectionError, organizationsClient, parseAccountIds, selectAccounts } from '../lib/shell/organization.js';
import { UsageError } from './errors.js';
import type { AccountOpts } from './options.js';

/**
 * The accounts the options select, or undefined for the caller's own account.
 * @example
 * await accountsFor({ accounts: '111111111111,222222222222' }, 6); // ['111111111111', '222222222222']
 */
export async function accountsFor(o: AccountOpts, maxAttempts: number): Promise<string[] | undefined> {
  const given = [o.accounts !== undefined && '--accounts', o.org && '--org', o.ou !== undefined && '--ou'].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} cannot be combined: give one of --accounts, --org, --ou`);
  if (!given.length) {
    if (o.roleName) throw new UsageError('--role-name needs --accounts, --org or --ou');
    return undefined;
  }
  try {
    if (o.accounts !== undefined) return parseAccountIds(o.accounts);
    return await selectAccounts(organizationsClient(maxAttempts), o.org ? { org: true } : { ou: o.ou as string });
  } catch (err) {
    if (err instanceof AccountSelectionError) throw new UsageError(`${given[0]}: ${err.message}`);
    throw err;
  }
}
