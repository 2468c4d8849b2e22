import { describe, expect, it } from 'vitest';
import { eventAccounts, hubRejection } from '../../lib/domain/hub.js';

const ev = (account: unknown, recipientAccountId: unknown) => ({ account, detail: { recipientAccountId } });
const A = '444455556666';
const B = '777788889999';

describe('hubRejection', () => {
  it('rejects an envelope account that is not the recording account, before asking about membership', () => {
    let asked = 0;
    const r = hubRejection(ev(B, A), () => {
      asked++;
      return true;
    });
    expect(r).toMatchObject({ reason: 'account-mismatch', account: B, recipientAccountId: A });
    expect(r?.message).toContain(B);
    expect(asked).toBe(0);
    expect(hubRejection(ev(undefined, A), () => true)?.reason).toBe('account-mismatch');
    expect(hubRejection({}, () => true)?.reason).toBe('account-mismatch');
  });

  it('rejects an account outside the organization and passes a member', () => {
    const members = new Set([A]);
    expect(hubRejection(ev(B, B), (a) => members.has(a))).toMatchObject({ reason: 'outside-organization', account: B });
    expect(hubRejection(ev(A, A), (a) => members.has(a))).toBeUndefined();
  });

  it('reads only string accounts', () => {
    expect(eventAccounts(ev(123, A))).toEqual({ recipientAccountId: A });
    expect(eventAccounts(null)).toEqual({});
  });
});
