import { describe, expect, it } from 'vitest';
import { errorOf, errorText, withRequestId } from '../../lib/domain/errors.js';

class ThrottlingException extends Error {
  override name = 'ThrottlingException';
  $metadata = { requestId: 'req-123', httpStatusCode: 400 };
}

describe('errorOf', () => {
  it('name and message of an Error, subclass names kept', () => {
    expect(errorOf(new TypeError('bad type'))).toEqual({ name: 'TypeError', message: 'bad type' });
    expect(errorOf(new ThrottlingException('slow down'))).toEqual({ name: 'ThrottlingException', message: 'slow down' });
  });

  it('anything else thrown becomes an Error with its text', () => {
    expect(errorOf('boom')).toEqual({ name: 'Error', message: 'boom' });
    expect(errorOf(undefined)).toEqual({ name: 'Error', message: 'undefined' });
    expect(errorOf(null)).toEqual({ name: 'Error', message: 'null' });
    expect(errorOf({ name: 'Custom' })).toEqual({ name: 'Custom', message: '[object Object]' });
  });

  it('carries only name and message (records stay small)', () => {
    expect(Object.keys(errorOf(new ThrottlingException('x')))).toEqual(['name', 'message']);
  });
});

describe('errorText', () => {
  it('is "name: message"', () => {
    expect(errorText(new RangeError('too far'))).toBe('RangeError: too far');
    expect(errorText(42)).toBe('Error: 42');
  });
});

describe('withRequestId', () => {
  it('the SDK request id of an error or an output, as a field', () => {
    expect(withRequestId(new ThrottlingException('x'))).toEqual({ requestId: 'req-123' });
    expect(withRequestId({ $metadata: { requestId: 'r-2' } })).toEqual({ requestId: 'r-2' });
  });

  it('nothing when there is none', () => {
    expect(withRequestId(new Error('x'))).toEqual({});
    expect(withRequestId({ $metadata: {} })).toEqual({});
    expect(withRequestId({ $metadata: { requestId: '' } })).toEqual({});
    expect(withRequestId(undefined)).toEqual({});
  });
});
