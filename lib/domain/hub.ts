// A hub's first check on a forwarded event (issue 14): the EventBridge envelope's `account` must be the account
// CloudTrail recorded the call in (`detail.recipientAccountId`), and that account must be in the organization.
// A member can put any detail on the hub's bus, but not another envelope account, so a mismatch is a forgery or
// a misrouted event. Pure.

export type HubRejection = {
  reason: 'account-mismatch' | 'outside-organization';
  message: string;
  account?: string;
  recipientAccountId?: string;
};

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The envelope and detail accounts of a raw EventBridge event. */
export function eventAccounts(raw: unknown): { account?: string; recipientAccountId?: string } {
  const e = (raw ?? {}) as { account?: unknown; detail?: { recipientAccountId?: unknown } };
  const account = str(e.account);
  const recipientAccountId = str(e.detail?.recipientAccountId);
  return { ...(account ? { account } : {}), ...(recipientAccountId ? { recipientAccountId } : {}) };
}

/**
 * Why a hub must not act on this event, or undefined. `isMember` answers for the organization's accounts.
 *
 * @example
 * hubRejection({ account: '444455556666', detail: { recipientAccountId: '777788889999' } }, () => true)?.reason;
 * // 'account-mismatch'
 */
export function hubRejection(raw: unknown, isMember: (account: string) => boolean): HubRejection | undefined {
  const a = eventAccounts(raw);
  if (!a.account || a.account !== a.recipientAccountId) {
    return {
      reason: 'account-mismatch',
      message: `the event's account ${a.account ?? '(none)'} is not the account it was recorded in (${a.recipientAccountId ?? '(none)'})`,
      ...a,
    };
  }
  if (!isMember(a.account)) {
    return { reason: 'outside-organization', message: `account ${a.account} is not an account of the organization`, ...a };
  }
  return undefined;
}
