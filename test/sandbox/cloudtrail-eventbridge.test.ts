// The sandbox's CloudTrail and EventBridge (JSON 1.1) through the real SDK clients: shadow trails, home-Region rules,
// typed errors, rule paging and state.
import * as ct from '@aws-sdk/client-cloudtrail';
import * as eb from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/server.js';

let sb: Sandbox;
const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
const trails = (region: string) => new ct.CloudTrailClient({ region, endpoint: sb.url, credentials, maxAttempts: 1 });
const events = (region = 'eu-west-1') => new eb.EventBridgeClient({ region, endpoint: sb.url, credentials, maxAttempts: 1 });

beforeAll(async () => {
  sb = await startSandbox({ quiet: true });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

describe('sandbox CloudTrail', () => {
  it('a multi-Region trail is a shadow trail elsewhere, reachable by ARN only', async () => {
    const home = trails('us-east-1');
    const made = await home.send(new ct.CreateTrailCommand({ Name: 'org', S3BucketName: 'b', IsMultiRegionTrail: true }));
    await home.send(new ct.CreateTrailCommand({ Name: 'local', S3BucketName: 'b' }));
    const away = trails('eu-west-1');
    const seen = await away.send(new ct.DescribeTrailsCommand({ includeShadowTrails: true }));
    expect(seen.trailList?.map((t) => [t.Name, t.HomeRegion, t.IsMultiRegionTrail])).toEqual([['org', 'us-east-1', true]]);
    expect((await away.send(new ct.DescribeTrailsCommand({ includeShadowTrails: false }))).trailList).toEqual([]);
    expect((await away.send(new ct.GetTrailStatusCommand({ Name: made.TrailARN! }))).IsLogging).toBe(false);
    await expect(away.send(new ct.GetTrailStatusCommand({ Name: 'org' }))).rejects.toBeInstanceOf(ct.TrailNotFoundException);
    await expect(away.send(new ct.StartLoggingCommand({ Name: made.TrailARN! }))).rejects.toBeInstanceOf(ct.InvalidHomeRegionException);
    await home.send(new ct.StartLoggingCommand({ Name: 'org' }));
    const status = await away.send(new ct.GetTrailStatusCommand({ Name: made.TrailARN! }));
    expect(status.IsLogging).toBe(true);
    expect(status.StartLoggingTime).toBeInstanceOf(Date);
  });

  it('event selectors: the default, classic or advanced, never both', async () => {
    const c = trails('eu-west-1');
    await c.send(new ct.CreateTrailCommand({ Name: 't', S3BucketName: 'b' }));
    expect((await c.send(new ct.GetEventSelectorsCommand({ TrailName: 't' }))).EventSelectors).toEqual([
      { ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [] },
    ]);
    const AdvancedEventSelectors = [{ Name: 'm', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }];
    await c.send(new ct.PutEventSelectorsCommand({ TrailName: 't', AdvancedEventSelectors }));
    const got = await c.send(new ct.GetEventSelectorsCommand({ TrailName: 't' }));
    expect(got.AdvancedEventSelectors).toEqual(AdvancedEventSelectors);
    expect(got.EventSelectors).toBeUndefined();
    await expect(
      c.send(new ct.PutEventSelectorsCommand({ TrailName: 't', AdvancedEventSelectors, EventSelectors: [{ ReadWriteType: 'All' }] })),
    ).rejects.toBeInstanceOf(ct.InvalidParameterCombinationException);
    await expect(c.send(new ct.CreateTrailCommand({ Name: 't', S3BucketName: 'b' }))).rejects.toBeInstanceOf(
      ct.TrailAlreadyExistsException,
    );
  });
});

describe('sandbox EventBridge', () => {
  it('rules by prefix, paged, per Region, enabled and disabled', async () => {
    const c = events();
    for (const n of ['app-c', 'app-a', 'app-b', 'other'])
      await c.send(new eb.PutRuleCommand({ Name: n, EventPattern: '{"source":["aws.ec2"]}' }));
    const first = await c.send(new eb.ListRulesCommand({ NamePrefix: 'app-', Limit: 2 }));
    expect(first.Rules?.map((r) => r.Name)).toEqual(['app-a', 'app-b']);
    const second = await c.send(new eb.ListRulesCommand({ NamePrefix: 'app-', Limit: 2, NextToken: first.NextToken! }));
    expect(second.Rules?.map((r) => r.Name)).toEqual(['app-c']);
    expect(second.NextToken).toBeUndefined();
    expect((await events('us-east-1').send(new eb.ListRulesCommand({}))).Rules).toEqual([]);
    await c.send(new eb.DisableRuleCommand({ Name: 'app-b' }));
    expect((await c.send(new eb.DescribeRuleCommand({ Name: 'app-b' }))).State).toBe('DISABLED');
    await c.send(new eb.EnableRuleCommand({ Name: 'app-b' }));
    expect((await c.send(new eb.DescribeRuleCommand({ Name: 'app-b' }))).State).toBe('ENABLED');
    await expect(c.send(new eb.DescribeRuleCommand({ Name: 'nope' }))).rejects.toBeInstanceOf(eb.ResourceNotFoundException);
    await expect(c.send(new eb.PutRuleCommand({ Name: 'bad', EventPattern: '{' }))).rejects.toBeInstanceOf(eb.InvalidEventPatternException);
  });

  it('injected faults reach JSON 1.1 services as typed errors', async () => {
    sb.setFaults({ errors: { ListRules: { rate: 1, kind: 'throttle' } } });
    await expect(events().send(new eb.ListRulesCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(sb.stats().faults.ListRules).toBe(1);
  });
});
