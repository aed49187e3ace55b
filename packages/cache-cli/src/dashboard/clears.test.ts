import { describe, expect, it } from 'vitest';
import { parseClearRequest } from './clears.js';

describe('parseClearRequest', () => {
  it('accepts a request whose confirmation is the name, exactly', () => {
    expect(parseClearRequest({ target: 'frame', name: 'customer_data', confirm: 'customer_data' })).toEqual({ target: 'frame', name: 'customer_data', confirm: 'customer_data' });
  });

  it('refuses a confirmation that differs in any way', () => {
    for (const confirm of ['customer_dat', 'Customer_data', ' customer_data', '']) {
      expect(() => parseClearRequest({ target: 'frame', name: 'customer_data', confirm })).toThrow(/confirmation does not match/);
    }
  });

  it('refuses an unknown target or a missing name', () => {
    expect(() => parseClearRequest({ target: 'everything', name: 'x', confirm: 'x' })).toThrow(/a clear needs/);
    expect(() => parseClearRequest({ target: 'model', name: '', confirm: '' })).toThrow(/a clear needs/);
    expect(() => parseClearRequest(null)).toThrow(/a clear needs/);
  });
});
