import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/shell/config.js';
import { listAccounts, membership, type OrgAccount } from '../../lib/shell/organization.js';
import { actingIn, homeAccount } from '../../lib/shell/region-context.js';
import type { Sandbox } from '../../sandbox/server.js';
import { startTestSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
const many = Array.from({ length: 25 }, (_, i) => ({ id: `5000000000${String(i).padStart(2, '0')}` }));
beforeAll(async () => {
  sb = await startTestSandbox({
    accounts: [...many, { id: '999900001111', inOrganization: false }, { id: '888800001111', status: 'SUSPENDED' }],
  });
});
afterAll(() => sb.close());

const client = () =>
  new OrganizationsClient({ endpoint: sb.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 's' } });

describe('organization', () => {
  it('lists every account over pages', async () => {
    const all: OrgAccount[] = await listAccounts(client());
    expect(all).toHaveLength(1 + 25 + 1);
    expect(all.map((a) => a.id)).toContain('500000000024');
  });

  it('answers membership from one cached ListAccounts; suspended and outside accounts are not members', async () => {
    let now = 0;
    const before = sb.stats().calls.ListAccounts ?? 0;
    const isMember = membership({ client: client(), now: () => now, ttlMs: 300_000, refreshMs: 60_000 });
    expect(await isMember('500000000003')).toBe(true);
    expect(await isMember('999900001111')).toBe(false);
    expect(await isMember('888800001111')).toBe(false);
    const pages = (sb.stats().calls.ListAccounts ?? 0) - before;
    expect(pages).toBe(2); // 27 accounts, 20 a page: one listing
    now = 61_000; // an unknown account refreshes once the minute is up
    expect(await isMember('999900001111')).toBe(false);
    expect((sb.stats().calls.ListAccounts ?? 0) - before).toBe(4);
  });

  it('takes the home account from the topic and acts in the event account only in a hub', () => {
    const topic = 'arn:aws:sns:eu-west-1:111122223333:imds-guard';
    const hub = loadConfig({ DEPLOYMENT: 'hub', ORGANIZATION_ID: 'o-a1b2c3d4e5', TOPIC_ARN: topic });
    expect(homeAccount(hub)).toBe('111122223333');
    expect(actingIn(hub, '444455556666', 'e1')).toEqual({ account: '444455556666', home: '111122223333', eventId: 'e1' });
    expect(actingIn(loadConfig({ TOPIC_ARN: topic }), '444455556666', 'e1')).toEqual({});
  });
});
