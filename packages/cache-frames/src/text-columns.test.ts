import { Type } from '@uwdata/flechette';
import { describe, expect, it } from 'vitest';
import { describeType } from './arrow-types.js';
import { typeTextColumn } from './text-columns.js';

const infer = (cells: (string | null)[]) => typeTextColumn('c', cells, undefined, 'f.csv');

describe('typeTextColumn inference', () => {
  it('keeps identifiers that look like numbers as text', () => {
    expect(infer(['00123', '00456']).type.typeId).toBe(Type.Utf8);
    expect(infer(['1234567890123456', '1']).type.typeId).toBe(Type.Utf8); // 16 digits
    expect(infer(['+1', '2']).type.typeId).toBe(Type.Utf8);
    expect(infer(['1e5', '2']).type.typeId).toBe(Type.Utf8);
    expect(infer(['1.50', '2.25']).type.typeId).toBe(Type.Utf8); // 1.50 would come back as 1.5
    expect(infer(['-0', '1']).type.typeId).toBe(Type.Utf8);
    expect(infer(['1', '']).type.typeId).toBe(Type.Utf8); // a quoted empty string is text
  });

  it('types numbers, booleans, dates and timestamps that write back identically', () => {
    expect(describeType(infer(['1', null, '-42']).type)).toBe('int32');
    expect(infer(['1', null, '-42']).values).toEqual([1, null, -42]);
    expect(describeType(infer(['123456789012345']).type)).toBe('int64');
    expect(describeType(infer(['1.5', '2', '-0.25']).type)).toBe('float64');
    expect(describeType(infer(['true', 'false', null]).type)).toBe('bool');
    expect(describeType(infer(['2024-01-15', null]).type)).toBe('date32[day]');
    expect(describeType(infer(['2024-01-15T10:30:00Z']).type)).toBe('timestamp[s, UTC]');
    expect(describeType(infer(['2024-01-15T10:30:00.123Z']).type)).toBe('timestamp[ms, UTC]');
    expect(describeType(infer(['2024-01-15 10:30:00']).type)).toBe('timestamp[s]');
  });

  it('keeps impossible dates and mixed forms as text', () => {
    expect(infer(['2024-02-30']).type.typeId).toBe(Type.Utf8);
    expect(infer(['2024-01-15', '2024-01-15T10:30:00Z']).type.typeId).toBe(Type.Utf8);
    expect(infer(['True', 'False']).type.typeId).toBe(Type.Utf8);
    expect(infer([null, null]).type.typeId).toBe(Type.Utf8);
  });

  it('applies explicit column types and names the bad row', () => {
    expect(typeTextColumn('id', ['00123'], 'integer', 'f.csv').values).toEqual([123]);
    expect(typeTextColumn('id', ['00123'], 'string', 'f.csv').values).toEqual(['00123']);
    expect(() => typeTextColumn('amount', ['1', 'x'], 'float', 'f.csv')).toThrow(/f.csv: column "amount" row 2: "x" is not a number/);
  });

  it('reads an explicit float column as decimal text only: not blanks, hex, binary or object keys', () => {
    const floats = (cells: string[]) => typeTextColumn('x', cells, 'float', 'f.csv').values;
    expect(floats(['1.5', '-2', '+3', '.5', '1e3', '1E-2', ' 7 ', '5.'])).toEqual([1.5, -2, 3, 0.5, 1000, 0.01, 7, 5]);
    expect(floats(['NaN', 'nan', 'inf', '-inf', 'Infinity', '-Infinity'])).toEqual([Number.NaN, Number.NaN, Infinity, -Infinity, Infinity, -Infinity]);
    for (const bad of [' ', '\t', '0x1F', '0b11', '0o7', '1_000', '1,5', 'constructor', '__proto__', '--1', '1e']) {
      expect(() => floats(['1', bad]), JSON.stringify(bad)).toThrow(`row 2: ${JSON.stringify(bad)} is not a number`);
    }
  });
});
