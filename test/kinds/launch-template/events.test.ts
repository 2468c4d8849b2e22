import { describe, expect, it } from 'vitest';
import { parseNodegroupEvent } from '../../../lib/kinds/nodegroup/events.js';
import { parseTemplateEvent } from '../../../lib/kinds/launch-template/events.js';
import { clone, loadEvent } from '../../helpers/events.js';

describe('launch template events', () => {
  it.each([
    ['create-launch-template', { launchTemplateId: 'lt-0a1b2c3d4e5f60001', launchTemplateName: 'analytics-nodes', version: '1' }],
    ['create-launch-template-version', { launchTemplateId: 'lt-0a1b2c3d4e5f60001', version: '2' }],
    ['modify-launch-template', { launchTemplateId: 'lt-0a1b2c3d4e5f60001', version: '2' }],
  ])('%s', (name, expected) => {
    const r = parseTemplateEvent(loadEvent(name), []);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets).toEqual([expect.objectContaining({ region: 'eu-west-1', account: '111122223333', ...expected })]);
  });

  it('falls back to the name when the response is missing', () => {
    const e = clone(loadEvent('create-launch-template'));
    e.detail.responseElements = null;
    const r = parseTemplateEvent(e, []);
    if (r.kind !== 'targets') throw new Error(r.kind);
    expect(r.targets[0]).toMatchObject({ launchTemplateName: 'analytics-nodes' });
    expect(r.targets[0]!.launchTemplateId).toBeUndefined();
  });

  it('ignores its own new versions (loop guard) and events from other APIs', () => {
    const e = clone(loadEvent('create-launch-template-version'));
    e.detail.userIdentity.sessionContext.sessionIssuer.userName = 'imds-guard-templates';
    e.detail.userIdentity.sessionContext.sessionIssuer.arn = 'arn:aws:iam::111122223333:role/imds-guard-templates';
    expect(parseTemplateEvent(e, ['imds-guard-templates'])).toMatchObject({ kind: 'ignored', reason: 'self-caused' });
    expect(parseTemplateEvent(loadEvent('run-instances-direct-3'), [])).toMatchObject({ kind: 'ignored', reason: 'unsupported-event' });
  });

  it('an event naming no template is nothing to do', () => {
    const e = clone(loadEvent('modify-launch-template'));
    e.detail.requestParameters = {};
    e.detail.responseElements = {};
    expect(parseTemplateEvent(e, [])).toMatchObject({ kind: 'ignored', reason: 'no-resources' });
  });
});

describe('node group events', () => {
  it('CreateNodegroup and UpdateNodegroupVersion yield the cluster and node group', () => {
    const a = parseNodegroupEvent(loadEvent('create-nodegroup-custom-template'), []);
    const b = parseNodegroupEvent(loadEvent('update-nodegroup-version'), []);
    if (a.kind !== 'targets' || b.kind !== 'targets') throw new Error('not targets');
    expect(a.targets).toEqual([{ region: 'eu-west-1', account: '111122223333', cluster: 'analytics', nodegroup: 'custom-lt-ng' }]);
    expect(b.targets).toEqual([{ region: 'eu-west-1', account: '111122223333', cluster: 'payments', nodegroup: 'default-ng' }]);
  });
  it('accepts clusterName instead of name; rejects unsafe names', () => {
    const e = clone(loadEvent('update-nodegroup-version'));
    delete e.detail.requestParameters.name;
    e.detail.requestParameters.clusterName = 'payments';
    expect(parseNodegroupEvent(e, [])).toMatchObject({ kind: 'targets' });
    e.detail.requestParameters.clusterName = '../../etc';
    expect(parseNodegroupEvent(e, [])).toMatchObject({ kind: 'ignored', reason: 'no-resources' });
  });
});
