import { describe, expect, it } from 'vitest';
import { FinRiskCacheError } from './errors.js';
import { KeySchema, decodeKeyPart, encodeKeyPart, escapeGlob, validateId } from './keys.js';

describe('keys', () => {
  const keys = new KeySchema('finrisk');

  it('builds {prefix}:{kind}:{parts}', () => {
    expect(keys.key('prediction', 'CUST001', 'credit')).toEqual({ kind: 'prediction', key: 'finrisk:prediction:CUST001:credit' });
    expect(keys.prefixOf('prediction', 'CUST001')).toBe('finrisk:prediction:CUST001:');
  });

  it('keeps glob characters literal and encodes the separator', () => {
    expect(keys.key('feature', '*').key).toBe('finrisk:feature:*');
    expect(keys.key('feature', 'CUST[0-9]').key).toBe('finrisk:feature:CUST[0-9]');
    expect(keys.key('feature', 'a:b').key).toBe('finrisk:feature:a%3Ab');
    expect(keys.key('feature', 'a%3Ab').key).toBe('finrisk:feature:a%253Ab');
    // two different ids never give the same key
    expect(keys.key('feature', 'a:b').key).not.toBe(keys.key('feature', 'a%3Ab').key);
  });

  it('refuses kinds every JavaScript object has (they would reach Object through counters keyed by kind)', () => {
    for (const kind of ['constructor', 'prototype']) expect(() => keys.key(kind, 'x')).toThrow(/a name every JavaScript object has/);
    expect(() => keys.prefixOf('constructor')).toThrow(FinRiskCacheError);
  });

  it('round-trips parts through parse', () => {
    for (const id of ['a:b', '%', '%3A', 'cliënt 客户', '*?[]\\']) {
      expect(keys.parse('feature', keys.key('feature', id).key)).toEqual([id]);
      expect(decodeKeyPart(encodeKeyPart(id))).toBe(id);
    }
  });

  it.each([
    ['', /must not be empty/],
    ['a\u0000b', /control character \(U\+0000\) at position 1/],
    ['tab\there', /control character/],
    ['x'.repeat(513), /limit is 512/],
    ['\ud800', /lone surrogate/],
  ])('refuses the id %j', (id, message) => {
    expect(() => validateId(id, 'customer id')).toThrow(message);
    try {
      validateId(id, 'customer id');
    } catch (e) {
      expect(FinRiskCacheError.hasCode(e, 'E_INVALID_KEY')).toBe(true);
      expect((e as Error).message).toMatch(/^customer id/);
    }
  });

  it('refuses non-string ids', () => {
    expect(() => validateId(42 as unknown as string)).toThrow(/must be a string, got number/);
  });

  it('escapes every glob character for MATCH patterns', () => {
    expect(escapeGlob('a*b?c[d]e\\f^')).toBe('a\\*b\\?c\\[d\\]e\\\\f\\^');
  });
});
