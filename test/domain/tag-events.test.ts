// CreateTags / DeleteTags of the scope and exempt keys are instance events (issue 17, attack 2).
import { describe, expect, it } from 'vitest';
import { parseInstanceEvent } from '../../lib/kinds/instance/events.js';
import { clone, loadEvent } from '../helpers/events.js';

describe('CreateTags / DeleteTags', () => {
  it('CreateTags of eks:cluster-name names its instances, to be described (no options, no tags)', () => {
    const r = parseInstanceEvent(loadEvent('create-tags-eks-cluster-name'), []);
    expect(r.kind).toBe('targets');
    if (r.kind !== 'targets') return;
    expect(r.targets.map((t) => t.instanceId)).toEqual(['i-0a1b2c3d4e5f60011', 'i-0a1b2c3d4e5f60012']);
    for (const t of r.targets) {
      expect(t.tags).toBeUndefined();
      expect(t.metadataOptions).toBeUndefined();
      expect(t.tagChange).toEqual({ set: { 'eks:cluster-name': 'payments', team: 'payments' }, deleted: [] });
      expect(t.actor).toBe('arn:aws:sts::111122223333:assumed-role/PlatformAdmin/carol');
    }
  });

  it('DeleteTags of the exempt tag names its instance; other resources in the request are left out', () => {
    const e = clone(loadEvent('delete-tags-exempt'));
    e.detail.requestParameters.resourcesSet.items.push({ resourceId: 'lt-0123456789abcdef0' }, { resourceId: 'i-xyz' });
    const r = parseInstanceEvent(e, []);
    expect(r).toMatchObject({
      kind: 'targets',
      targets: [{ instanceId: 'i-0a1b2c3d4e5f60013', tagChange: { deleted: ['imds-guard:exempt'] } }],
    });
  });

  it('a CreateTags naming no instance is nothing to do', () => {
    const e = clone(loadEvent('create-tags-eks-cluster-name'));
    e.detail.requestParameters.resourcesSet.items = [{ resourceId: 'vol-0123456789abcdef0' }];
    expect(parseInstanceEvent(e, [])).toMatchObject({ kind: 'ignored', reason: 'no-resources' });
  });
});
