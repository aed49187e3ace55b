import { describe, expect, it } from 'vitest';
import { valueFields, valueText } from './display-value.js';

describe('valueText', () => {
  it('keeps strings as they are (markup included: the page shows text)', () => {
    expect(valueText('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
  });

  it('writes what JSON cannot hold', () => {
    expect(valueText(new Date('2024-01-02T03:04:05.000Z'))).toBe('2024-01-02T03:04:05.000Z');
    expect(valueText({ n: 10n, m: new Map([['a', 1]]), s: new Set([1]), f: Number.NaN })).toBe('{"n":"10n","m":{"a":1},"s":[1],"f":"NaN"}');
    expect(valueText(new Float64Array([1.5, 2]))).toBe('[1.5,2]');
    expect(valueText(null)).toBe('null');
  });

  it('cuts long text', () => {
    expect(valueText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(valueText(new Float64Array(100))).toMatch(/,"…"\]$/);
  });

  it('survives a value JSON cannot walk', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(valueText(cyclic)).toBe('[object Object]');
  });
});

describe('valueFields', () => {
  it("lists an object's fields, a Map's entries, anything else as one field", () => {
    expect(valueFields({ age: 35, name: 'A' })).toEqual([{ name: 'age', text: '35' }, { name: 'name', text: 'A' }]);
    expect(valueFields(new Map([['k', [1, 2]]]))).toEqual([{ name: 'k', text: '[1,2]' }]);
    expect(valueFields([1, 2])).toEqual([{ name: 'value', text: '[1,2]' }]);
  });
});
