import { FinRiskCacheError } from '@finrisk/cache-core';
import { describe, expect, it } from 'vitest';
import { validateTableName } from './table-name.js';

describe('validateTableName', () => {
  it('accepts ordinary names, including ":"', () => {
    expect(validateTableName('customer_data')).toBe('customer_data');
    expect(validateTableName('q1:report.v2')).toBe('q1:report.v2');
  });

  it('refuses glob characters, slashes and empty names with E_INVALID_KEY', () => {
    for (const bad of ['cust*', 'a?', 'a[1]', 'data/customers', 'a\\b', '', ' padded', 'tab\tname']) {
      expect(() => validateTableName(bad)).toThrow(FinRiskCacheError);
      try { validateTableName(bad); } catch (e) { expect(FinRiskCacheError.hasCode(e, 'E_INVALID_KEY')).toBe(true); }
    }
    expect(() => validateTableName('cust*')).toThrow(/contains "\*" at position 4/);
  });
});
