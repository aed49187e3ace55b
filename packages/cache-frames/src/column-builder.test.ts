import { tableFromColumns, tableFromIPC, tableToIPC } from '@uwdata/flechette';
import { describe, expect, it } from 'vitest';
import { describeType } from './arrow-types.js';
import { buildColumn, inferKind } from './column-builder.js';
import { splitIpcMessages } from './ipc-messages.js';

const roundTrip = (values: unknown[], batchBytes = 1 << 20) => {
  const { column, bigint } = buildColumn('c', values, undefined, batchBytes);
  const bytes = tableToIPC(tableFromColumns({ c: column }), { format: 'stream' })!;
  return { column, values: tableFromIPC(bytes, { useDate: true, useBigInt: bigint }).getChild('c').toArray() as unknown[] };
};

describe('buildColumn', () => {
  it('infers the narrowest exact type', () => {
    expect(inferKind([1, 2, null])).toBe('int32');
    expect(inferKind([1, 2 ** 40])).toBe('int64');
    expect(inferKind([1, -0])).toBe('float64');
    expect(inferKind(['a', null])).toBe('string');
    expect(inferKind([new Date(0), new Date(86_400_000)])).toBe('date');
    expect(inferKind([new Date(1)])).toBe('timestamp');
    expect(inferKind([1, 'a'])).toBe('other');
    expect(inferKind([null])).toBe('null');
  });

  it('encodes unicode strings across many batches without mixing them up', () => {
    const values = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? null : i % 3 === 1 ? `ascii-${i}` : `ünï-😀-${i}`));
    const { column, values: back } = roundTrip(values, 4096);
    expect(column.data.length).toBeGreaterThan(3);
    expect(describeType(column.type)).toBe('utf8');
    expect(Array.from(back)).toEqual(values);
  });

  it('splits a stream into schema and record batch messages', () => {
    const { column } = buildColumn('c', Array.from({ length: 3000 }, (_, i) => i), undefined, 4096);
    const bytes = tableToIPC(tableFromColumns({ c: column }), { format: 'stream' })!;
    const messages = splitIpcMessages(bytes);
    expect(messages[0]!.type).toBe(1);
    expect(messages.slice(1).every((m) => m.type === 3)).toBe(true);
    expect(messages.length).toBe(column.data.length + 1);
  });
});
