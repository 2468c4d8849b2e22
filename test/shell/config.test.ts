import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/shell/config.js';

describe('config', () => {
  it('defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      MODE: 'enforce',
      SCOPE: 'eks',
      MAX_HOP_LIMIT: 1,
      EXEMPT_TAG_KEY: 'imds-guard:exempt',
      IDENTITY_GATE: 'warn',
      ROLLOUT: false,
    });
    expect(c.OWNER_TAG_KEYS).toEqual(['owner', 'Owner', 'team']);
  });
  it('parses lists and numbers', () => {
    const c = loadConfig({ EXEMPT_CLUSTERS: 'a, b', MAX_HOP_LIMIT: '2', ROLLOUT: 'true', MODE: 'dry-run' });
    expect(c.EXEMPT_CLUSTERS).toEqual(['a', 'b']);
    expect(c.MAX_HOP_LIMIT).toBe(2);
    expect(c.ROLLOUT).toBe(true);
  });
  it.each([
    ['MODE', 'yolo'],
    ['SCOPE', 'some'],
    ['MAX_HOP_LIMIT', '0'],
    ['MAX_HOP_LIMIT', 'abc'],
    ['TOPIC_ARN', 'not-an-arn'],
    ['PUBLISH_OUTCOMES', 'remediated,bogus'],
    ['ROLLOUT', 'maybe'],
  ])('an invalid %s fails naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`Invalid imds-guard configuration: .*${name}`));
  });
});
