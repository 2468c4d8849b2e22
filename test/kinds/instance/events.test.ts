import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../lib/domain/policy.js';
import { identifyNode } from '../../../lib/domain/scope.js';
import { parseInstanceEvent } from '../../../lib/kinds/instance/events.js';
import { clone, loadEvent } from '../../helpers/events.js';

const SELF = ['imds-guard-enforce-instances'];

describe('parseInstanceEvent on the sample events', () => {
  it('Auto Scaling launch for a managed node group: options and tags from the event', () => {
    const r = parseInstanceEvent(loadEvent('run-instances-nodegroup-asg'), SELF);
    expect(r.kind).toBe('targets');
    if (r.kind !== 'targets') return;
    expect(r.trigger).toMatchObject({
      eventName: 'RunInstances',
      region: 'eu-west-1',
      account: '111122223333',
      sourceIp: 'autoscaling.amazonaws.com',
    });
    expect(r.trigger.actor).toContain('AWSServiceRoleForAutoScaling');
    expect(r.targets).toHaveLength(1);
    expect(r.targets[0]).toMatchObject({
      instanceId: 'i-0a1b2c3d4e5f60001',
      metadataOptions: { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' },
      tags: { 'eks:cluster-name': 'payments', 'eks:nodegroup-name': 'default-ng', team: 'payments' },
      eventId: 'a1f0c2e4-0001-4b6e-9d3c-111122223333',
    });
  });

  it.each([
    ['run-instances-nodegroup-al2023', 'required', 1, 'al2023-ng', true],
    ['run-instances-nodegroup-bottlerocket', 'required', 1, 'bottlerocket-ng', true],
    ['run-instances-nodegroup-windows', 'optional', 2, 'windows-ng', false],
    ['run-instances-eksctl-self-managed', 'required', 2, undefined, false],
  ] as const)(
    "today's node launches (%s): the template's options, the node's cluster, compliant only when required/1",
    (name, tokens, hop, ng, ok) => {
      const r = parseInstanceEvent(loadEvent(name), SELF);
      if (r.kind !== 'targets') throw new Error(r.kind);
      expect(r.targets).toHaveLength(1);
      const [t] = r.targets;
      expect(t!.metadataOptions).toMatchObject({ httpTokens: tokens, hopLimit: hop });
      expect(t!.tags?.['eks:nodegroup-name']).toBe(ng);
      expect(identifyNode(t!.tags ?? {})).toMatchObject({ eks: true, cluster: 'payments' });
      expect(evaluate(t!.metadataOptions!, { maxHopLimit: 1 }).compliant).toBe(ok);
    },
  );

  it('direct RunInstances with 3 instances', () => {
    const r = parseInstanceEvent(loadEvent('run-instances-direct-3'), SELF);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets.map((t) => [t.instanceId, t.metadataOptions?.httpTokens, t.metadataOptions?.hopLimit])).toEqual([
      ['i-0a1b2c3d4e5f60011', 'optional', 2],
      ['i-0a1b2c3d4e5f60012', 'optional', 1],
      ['i-0a1b2c3d4e5f60013', 'required', 2],
    ]);
    expect(r.targets.every((t) => t.tags?.['kubernetes.io/cluster/payments'] === 'owned')).toBe(true);
  });

  it('Karpenter CreateFleet: collects every instance ID, options unknown', () => {
    const r = parseInstanceEvent(loadEvent('create-fleet-karpenter'), SELF);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets.map((t) => t.instanceId)).toEqual(['i-0a1b2c3d4e5f60021', 'i-0a1b2c3d4e5f60022']);
    expect(r.targets.every((t) => t.metadataOptions === undefined && t.tags === undefined)).toBe(true);
  });

  it('ModifyInstanceMetadataOptions drift: one target, described later', () => {
    const r = parseInstanceEvent(loadEvent('modify-metadata-options-revert'), SELF);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets).toEqual([expect.objectContaining({ instanceId: 'i-0a1b2c3d4e5f60001' })]);
    expect(r.targets[0]!.tags).toBeUndefined();
  });

  it('failed call is ignored with its reason', () => {
    expect(parseInstanceEvent(loadEvent('run-instances-failed'), SELF)).toMatchObject({ kind: 'ignored', reason: 'failed-call' });
  });
});

describe('ignore and reject', () => {
  it('events made by imds-guard itself are ignored (loop guard)', () => {
    const e = clone(loadEvent('modify-metadata-options-revert'));
    e.detail.userIdentity.arn = 'arn:aws:sts::111122223333:assumed-role/imds-guard-enforce-instances/fn';
    e.detail.userIdentity.sessionContext.sessionIssuer = {
      type: 'Role',
      arn: 'arn:aws:iam::111122223333:role/imds-guard-enforce-instances',
      userName: 'imds-guard-enforce-instances',
    };
    expect(parseInstanceEvent(e, SELF)).toMatchObject({ kind: 'ignored', reason: 'self-caused' });
    // Without the guard configured, the same event is work.
    expect(parseInstanceEvent(e, []).kind).toBe('targets');
  });

  it('RunInstances with no instances in its response is nothing to do', () => {
    const e = clone(loadEvent('run-instances-nodegroup-asg'));
    e.detail.responseElements = null;
    expect(parseInstanceEvent(e, SELF)).toMatchObject({ kind: 'ignored', reason: 'no-resources' });
  });

  it('an event for another API is ignored, not rejected', () => {
    const e = clone(loadEvent('run-instances-direct-3'));
    e.detail.eventName = 'StopInstances';
    expect(parseInstanceEvent(e, SELF)).toMatchObject({ kind: 'ignored', reason: 'unsupported-event' });
  });

  it.each([
    ['null', null],
    ['a string', 'RunInstances'],
    [
      'no detail',
      (() => {
        const e = clone(loadEvent('run-instances-direct-3'));
        delete e.detail;
        return e;
      })(),
    ],
    [
      'wrong detail-type',
      (() => {
        const e = clone(loadEvent('run-instances-direct-3'));
        e['detail-type'] = 'EC2 Instance State-change Notification';
        return e;
      })(),
    ],
    [
      'bad account',
      (() => {
        const e = clone(loadEvent('run-instances-direct-3'));
        e.detail.recipientAccountId = 'abc';
        return e;
      })(),
    ],
    [
      'no region',
      (() => {
        const e = clone(loadEvent('run-instances-direct-3'));
        delete e.detail.awsRegion;
        return e;
      })(),
    ],
    [
      'no eventID',
      (() => {
        const e = clone(loadEvent('run-instances-direct-3'));
        e.detail.eventID = '';
        return e;
      })(),
    ],
  ])('malformed (%s) is rejected with issues', (_n, e) => {
    const r = parseInstanceEvent(e, SELF);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') expect(r.issues.length).toBeGreaterThan(0);
  });

  it('bad instance IDs inside a valid envelope are dropped, not trusted', () => {
    const e = clone(loadEvent('run-instances-direct-3'));
    e.detail.responseElements.instancesSet.items[0].instanceId = 'i-../../etc';
    e.detail.responseElements.instancesSet.items[1].instanceId = 42;
    const r = parseInstanceEvent(e, SELF);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets.map((t) => t.instanceId)).toEqual(['i-0a1b2c3d4e5f60013']);
  });

  it('partial metadataOptions in the event means describe, not guess', () => {
    const e = clone(loadEvent('run-instances-direct-3'));
    delete e.detail.responseElements.instancesSet.items[0].metadataOptions.httpPutResponseHopLimit;
    const r = parseInstanceEvent(e, SELF);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets[0]!.metadataOptions).toBeUndefined();
    expect(r.targets[1]!.metadataOptions).toBeDefined();
  });

  it('a launch-template launch without a response tagSet leaves tags unknown', () => {
    const e = clone(loadEvent('run-instances-nodegroup-asg'));
    delete e.detail.responseElements.instancesSet.items[0].tagSet;
    const r = parseInstanceEvent(e, SELF);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets[0]!.tags).toBeUndefined();
  });
});
