import { describe, expect, it } from 'vitest';
import {
  applyRemediation,
  evaluate,
  isComplete,
  planRemediation,
  toMetadataOptions,
  type MetadataOptions,
} from '../../lib/domain/policy.js';

const policy = { maxHopLimit: 1 };

// Every combination from the issue, including the two Cloud Custodian's set-metadata-access misses.
const table: {
  name: string;
  before: MetadataOptions;
  compliant: boolean;
  send?: { httpTokens: 'required'; hopLimit?: number };
  fields?: string[];
}[] = [
  { name: 'required + hop 1', before: { httpTokens: 'required', hopLimit: 1 }, compliant: true },
  {
    name: 'optional + hop 1 (tokens only)',
    before: { httpTokens: 'optional', hopLimit: 1 },
    compliant: false,
    send: { httpTokens: 'required', hopLimit: 1 },
    fields: ['HttpTokens'],
  },
  {
    name: 'required + hop 2 (hop only: tokens still sent)',
    before: { httpTokens: 'required', hopLimit: 2 },
    compliant: false,
    send: { httpTokens: 'required', hopLimit: 1 },
    fields: ['HttpPutResponseHopLimit'],
  },
  {
    name: 'optional + hop 2',
    before: { httpTokens: 'optional', hopLimit: 2 },
    compliant: false,
    send: { httpTokens: 'required', hopLimit: 1 },
    fields: ['HttpTokens', 'HttpPutResponseHopLimit'],
  },
  {
    name: 'missing tokens',
    before: { hopLimit: 1 },
    compliant: false,
    send: { httpTokens: 'required', hopLimit: 1 },
    fields: ['HttpTokens'],
  },
  {
    name: 'missing hop limit',
    before: { httpTokens: 'required' },
    compliant: false,
    send: { httpTokens: 'required', hopLimit: 1 },
    fields: ['HttpPutResponseHopLimit'],
  },
  {
    name: 'nothing known',
    before: {},
    compliant: false,
    send: { httpTokens: 'required', hopLimit: 1 },
    fields: ['HttpTokens', 'HttpPutResponseHopLimit'],
  },
  {
    name: 'endpoint disabled counts as compliant',
    before: { httpEndpoint: 'disabled', httpTokens: 'optional', hopLimit: 2 },
    compliant: true,
  },
  {
    name: 'hop 64 optional',
    before: { httpTokens: 'optional', hopLimit: 64 },
    compliant: false,
    send: { httpTokens: 'required', hopLimit: 1 },
    fields: ['HttpTokens', 'HttpPutResponseHopLimit'],
  },
];

describe('policy: evaluate and planRemediation', () => {
  it.each(table)('$name', ({ before, compliant, send, fields }) => {
    const ev = evaluate(before, policy);
    expect(ev.compliant).toBe(compliant);
    if (!compliant) {
      expect(ev.violations.map((v) => v.field)).toEqual(fields);
      expect(planRemediation(before, policy)).toEqual(send);
      // The plan always carries HttpTokens=required: omitted would mean optional.
      expect(planRemediation(before, policy).httpTokens).toBe('required');
      expect(evaluate(applyRemediation(before, planRemediation(before, policy)), policy).compliant).toBe(true);
    }
  });

  it('keeps a compliant hop limit below the maximum instead of raising it', () => {
    expect(planRemediation({ httpTokens: 'optional', hopLimit: 1 }, { maxHopLimit: 2 })).toEqual({ httpTokens: 'required', hopLimit: 1 });
    expect(evaluate({ httpTokens: 'required', hopLimit: 2 }, { maxHopLimit: 2 }).compliant).toBe(true);
  });

  it('leaves fields outside the policy alone', () => {
    const before: MetadataOptions = {
      httpTokens: 'optional',
      hopLimit: 2,
      instanceMetadataTags: 'enabled',
      httpProtocolIpv6: 'enabled',
      httpEndpoint: 'enabled',
    };
    const plan = planRemediation(before, policy);
    expect(Object.keys(plan).sort()).toEqual(['hopLimit', 'httpTokens']);
    expect(applyRemediation(before, plan)).toEqual({ ...before, httpTokens: 'required', hopLimit: 1 });
  });

  it('hold gate: requires tokens, never touches the hop limit', () => {
    const hold = { maxHopLimit: 1, holdHopLimit: true };
    expect(evaluate({ httpTokens: 'required', hopLimit: 2 }, hold).compliant).toBe(true);
    expect(planRemediation({ httpTokens: 'optional', hopLimit: 2 }, hold)).toEqual({ httpTokens: 'required', hopLimit: 2 });
    expect(planRemediation({ httpTokens: 'optional' }, hold)).toEqual({ httpTokens: 'required' });
  });
});

describe('toMetadataOptions', () => {
  it('reads API, CloudTrail and launch-template spellings alike', () => {
    expect(toMetadataOptions({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' })).toEqual({
      httpTokens: 'required',
      hopLimit: 1,
      httpEndpoint: 'enabled',
    });
    expect(toMetadataOptions({ httpTokens: 'optional', httpPutResponseHopLimit: '2', state: 'pending' })).toEqual({
      httpTokens: 'optional',
      hopLimit: 2,
    });
    expect(toMetadataOptions({ HttpTokens: 'bogus', HttpPutResponseHopLimit: 99 })).toEqual({});
    expect(toMetadataOptions(undefined)).toBeUndefined();
  });
  it('isComplete needs tokens and hop limit unless IMDS is off', () => {
    expect(isComplete({ httpTokens: 'required' })).toBe(false);
    expect(isComplete({ httpTokens: 'required', hopLimit: 2 })).toBe(true);
    expect(isComplete({ httpEndpoint: 'disabled' })).toBe(true);
  });
});
