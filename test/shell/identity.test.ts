// Identity readiness: looked up only when a change lowers the hop limit, cached per cluster, each call on its own.
import { EC2Client, ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import {
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  ListAddonsCommand,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import { IAMClient, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { identityReadiness } from '../../lib/shell/identity-readiness.js';
import { policyProvider, resetIdentityCache } from '../../lib/shell/identity.js';
import { clone, loadEvent } from '../helpers/events.js';
import { TOPIC, lambdaContext, loadFunction } from '../helpers/lambda.js';

type Mod = typeof import('../../functions/enforce-instances.js');
const ec2 = mockClient(EC2Client);
const sns = mockClient(SNSClient);
const eks = mockClient(EKSClient);
const iam = mockClient(IAMClient);
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC';
// The nodes name their owner and routing is instance-first, so no DescribeCluster is made for owner tags:
// every EKS call counted here is an identity call.
const env = { TOPIC_ARN: TOPIC, MAX_ATTEMPTS: '1', IDENTITY_GATE: 'hold', IDENTITY_CACHE_SECONDS: '300', OWNER_SOURCE: 'instance-first' };
const denied = (m = 'User is not authorized\nto perform this action') => Object.assign(new Error(m), { name: 'AccessDeniedException' });

function node(n: number, tokens: string, hop: number, cluster = 'payments') {
  return {
    instanceId: `i-0000000000000${String(n).padStart(4, '0')}`,
    tagSet: {
      items: [
        { key: 'eks:cluster-name', value: cluster },
        { key: 'owner', value: 'a' },
      ],
    },
    metadataOptions: { state: 'pending', httpTokens: tokens, httpPutResponseHopLimit: hop, httpEndpoint: 'enabled' },
  };
}
function runEvent(items: unknown[], eventID: string) {
  const e = clone(loadEvent('run-instances-direct-3'));
  e.detail.responseElements.instancesSet.items = items;
  delete e.detail.requestParameters.tagSpecificationSet;
  e.detail.eventID = eventID;
  return e;
}
const identityCalls = () => eks.calls().filter((c) => !(c.args[0] instanceof DescribeNodegroupCommand)).length + iam.calls().length;
const hops = () => ec2.commandCalls(ModifyInstanceMetadataOptionsCommand).map((c) => c.args[0].input.HttpPutResponseHopLimit);

beforeEach(() => {
  for (const m of [ec2, sns, eks, iam]) m.reset();
  resetIdentityCache();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ec2.on(ModifyInstanceMetadataOptionsCommand).callsFake((input) => ({
    InstanceMetadataOptions: { State: 'pending', HttpTokens: input.HttpTokens, HttpPutResponseHopLimit: input.HttpPutResponseHopLimit },
  }));
  eks.on(DescribeClusterCommand).resolves({ cluster: { identity: { oidc: { issuer: ISSUER } } } });
  eks.on(ListAddonsCommand).resolves({ addons: [] });
  eks.on(ListPodIdentityAssociationsCommand).resolves({ associations: [] });
  iam.on(ListOpenIDConnectProvidersCommand).resolves({
    OpenIDConnectProviderList: [{ Arn: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC' }],
  });
});
afterEach(() => vi.unstubAllEnvs());

describe('identity readiness in enforce-instances', () => {
  it('an event whose instances are compliant, exempt, out of scope or need only tokens makes 0 identity calls', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    const res = await handler(
      runEvent([node(1, 'required', 1), node(2, 'required', 1, 'other'), node(3, 'optional', 1)], 'ev-1'),
      lambdaContext(),
    );
    expect(identityCalls()).toBe(0);
    expect(res).toMatchObject({ counts: { compliant: 2, remediated: 1 } });
  });

  it('two events for one cluster within the TTL make the 4 calls once', async () => {
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    await handler(runEvent([node(1, 'optional', 2), node(2, 'optional', 2)], 'ev-1'), lambdaContext());
    await handler(runEvent([node(3, 'optional', 2)], 'ev-2'), lambdaContext());
    expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 1);
    expect(eks).toHaveReceivedCommandTimes(ListAddonsCommand, 1);
    expect(eks).toHaveReceivedCommandTimes(ListPodIdentityAssociationsCommand, 1);
    expect(iam).toHaveReceivedCommandTimes(ListOpenIDConnectProvidersCommand, 1);
    expect(hops()).toEqual([1, 1, 1]);
  });

  it('a failed ListPodIdentityAssociations keeps a positive IRSA answer: ready, IDENTITY_GATE=hold holds nothing', async () => {
    eks.on(ListPodIdentityAssociationsCommand).rejects(denied());
    const { handler } = await loadFunction<Mod>('../../functions/enforce-instances.js', env);
    await handler(runEvent([node(1, 'optional', 2)], 'ev-1'), lambdaContext());
    expect(hops()).toEqual([1]);
  });

  it('all four calls failing: not ready, the hold keeps the hop limit, the note names each error on one line', async () => {
    eks.on(DescribeClusterCommand).rejects(denied());
    eks.on(ListAddonsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    eks.on(ListPodIdentityAssociationsCommand).rejects(denied());
    iam.on(ListOpenIDConnectProvidersCommand).rejects(Object.assign(new Error('boom'), { name: 'ServiceFailure' }));
    const r = await identityReadiness(new EKSClient({ region: 'eu-west-1' }), new IAMClient({ region: 'us-east-1' }), 'payments');
    expect(r).toMatchObject({ cluster: 'payments', irsa: false, podIdentityAgent: false, podIdentityAssociations: 0 });
    expect(r.error).toBe(
      'AccessDeniedException: User is not authorized (DescribeCluster); ThrottlingException: Rate exceeded (ListAddons); ' +
        'AccessDeniedException: User is not authorized (ListPodIdentityAssociations); ServiceFailure: boom (ListOpenIDConnectProviders)',
    );
    const policyFor = policyProvider({ maxHopLimit: 1 }, 'hold', () => ({ eks: new EKSClient({}), iam: new IAMClient({}) }));
    const gated = await policyFor('payments');
    expect(gated.policy.holdHopLimit).toBe(true);
    expect(gated.notes[0]).toContain('AccessDeniedException: User is not authorized (DescribeCluster)');
    expect(gated.notes[0]).not.toContain('\n');
  });

  it('a failed answer is not cached: the next event asks again', async () => {
    eks
      .on(DescribeClusterCommand)
      .rejectsOnce(denied())
      .resolves({ cluster: { identity: { oidc: { issuer: ISSUER } } } });
    const policyFor = policyProvider({ maxHopLimit: 1 }, 'hold', () => ({ eks: new EKSClient({}), iam: new IAMClient({}) }), {
      scope: 'eu-west-1',
      ttlSeconds: 300,
    });
    expect((await policyFor('payments')).policy.holdHopLimit).toBe(true);
    const again = policyProvider({ maxHopLimit: 1 }, 'hold', () => ({ eks: new EKSClient({}), iam: new IAMClient({}) }), {
      scope: 'eu-west-1',
      ttlSeconds: 300,
    });
    expect((await again('payments')).policy.holdHopLimit).toBeUndefined();
    expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 2);
  });

  it('the cache expires after the TTL', async () => {
    let now = 0;
    const mk = () =>
      policyProvider({ maxHopLimit: 1 }, 'warn', () => ({ eks: new EKSClient({}), iam: new IAMClient({}) }), {
        scope: 'eu-west-1',
        ttlSeconds: 300,
        now: () => now,
      });
    await mk()('payments');
    now = 299_000;
    await mk()('payments');
    now = 300_000;
    await mk()('payments');
    expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 2);
  });
});
