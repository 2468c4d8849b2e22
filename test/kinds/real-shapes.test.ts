// CloudTrail shapes from real records (issue 16), as the fixtures in events/ model them (each says so in `_note`):
// EC2 lists of one as bare objects with "tag": 1, scalar lists as [{"tag": 1, "content": …}], Karpenter's
// CreateFleet with a bare instance ID and errorSet.item[], EKS path parameters URL-encoded.
import { describe, expect, it } from 'vitest';
import { parseInstanceEvent } from '../../lib/kinds/instance/events.js';
import { parseNodegroupEvent } from '../../lib/kinds/nodegroup/events.js';
import { toTags } from '../../lib/domain/tags.js';
import { allEventNames, loadEvent } from '../helpers/events.js';

describe('CloudTrail shapes from real records', () => {
  it('every modelled fixture says so in _note', () => {
    const modelled = allEventNames().filter((f) => String(loadEvent(f)._note ?? '').startsWith('MODELLED'));
    expect(modelled.sort()).toEqual([
      'create-fleet-capacity-failure.json',
      'create-fleet-karpenter-single.json',
      'run-instances-tag-one.json',
      'update-nodegroup-version-url-encoded.json',
    ]);
  });

  it('RunInstances with lists of one as bare objects ("tag": 1): the instance, its options and its one tag', () => {
    const r = parseInstanceEvent(loadEvent('run-instances-tag-one'), []);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets.map((t) => [t.instanceId, t.metadataOptions?.httpTokens, t.metadataOptions?.hopLimit, t.tags])).toEqual([
      ['i-0a1b2c3d4e5f60101', 'optional', 2, { 'eks:cluster-name': 'payments' }],
    ]);
  });

  it('a tag list of one, bare or under items, is one tag; "tag": 1 is no tag', () => {
    const one = { tag: 1, key: 'eks:cluster-name', value: 'payments' };
    expect(toTags(one)).toEqual({ 'eks:cluster-name': 'payments' });
    expect(toTags({ items: one })).toEqual({ 'eks:cluster-name': 'payments' });
    expect(toTags({ item: [one, { tag: 2, key: 'team', value: 'pay' }] })).toEqual({ 'eks:cluster-name': 'payments', team: 'pay' });
    expect(toTags({ Key: 'owner', Value: 'alice' })).toEqual({ owner: 'alice' });
    // A plain map keeps working.
    expect(toTags({ team: 'pay', env: 'prod' })).toEqual({ team: 'pay', env: 'prod' });
  });

  it('Karpenter CreateFleet: a single instance ID as a bare string, three TagSpecifications, a partial capacity failure', () => {
    const r = parseInstanceEvent(loadEvent('create-fleet-karpenter-single'), []);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets.map((t) => t.instanceId)).toEqual(['i-0a1b2c3d4e5f60031']);
  });

  it('CreateFleet that launched nothing (errorSet.item[] only, no top-level errorCode): ignored, nothing to describe', () => {
    const r = parseInstanceEvent(loadEvent('create-fleet-capacity-failure'), []);
    expect(r).toMatchObject({ kind: 'ignored', reason: 'no-resources' });
  });

  it('EKS path parameters URL-encoded under requestParameters: decoded names', () => {
    const r = parseNodegroupEvent(loadEvent('update-nodegroup-version-url-encoded'), []);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets).toEqual([{ region: 'eu-west-1', account: '111122223333', cluster: 'payments_blue', nodegroup: 'default-ng' }]);
  });

  it('a malformed URL encoding is no name (the event is ignored, not thrown)', () => {
    const e = loadEvent('update-nodegroup-version-url-encoded');
    e.detail.requestParameters.name = 'payments%E0%A4%A';
    expect(parseNodegroupEvent(e, [])).toMatchObject({ kind: 'ignored', reason: 'no-resources' });
  });
});
