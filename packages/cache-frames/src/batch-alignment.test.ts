import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Column, TimeUnit, batchType, bool, columnFromArray, dictionary, float64, int32, int64, tableFromColumns, tableFromIPC, timestamp, utf8,
} from '@uwdata/flechette';
import { afterAll, describe, expect, it } from 'vitest';
import { toArqueroTable } from './arquero-table.js';
import { alignBatches } from './batch-alignment.js';
import { readTableFile, writeTableFile } from './table-files.js';

const dir = mkdtempSync(join(tmpdir(), 'frames-align-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = 10_000;
const rowsOf = (column: Column<unknown>) => column.data.map((b) => b.length);

/** Columns of one table whose batches end at different rows, as a table read from the cache has them. */
function misaligned(): [string, Column<unknown>][] {
  const id = Int32Array.from({ length: N }, (_, i) => i);
  const micros = BigInt64Array.from({ length: N }, (_, i) => 1_700_000_000_000_123n + BigInt(i) * 1_001n);
  const microColumn = columnFromArray(micros, int64(), { maxBatchRows: 1500 });
  // The same raw values as microsecond timestamps: rebuilt from Dates they would lose the last 3 digits.
  const tsType = timestamp(TimeUnit.MICROSECOND, 'UTC');
  const TimestampBatch = batchType(tsType, { useDate: true }) as unknown as new (options: object) => never;
  const ts = new Column(microColumn.data.map((b) => new TimestampBatch({ length: b.length, nullCount: 0, type: tsType, validity: new Uint8Array(0), values: b.values })), tsType);
  return [
    ['id', columnFromArray(id, int32(), { maxBatchRows: 4096 }) as Column<unknown>],
    ['wide', columnFromArray(Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : `${'w'.repeat(200)}-${i}`)), utf8(), { maxBatchRows: 700 }) as Column<unknown>],
    ['amount', columnFromArray(Array.from({ length: N }, (_, i) => (i % 7 === 0 ? null : i / 3)), float64(), { maxBatchRows: 3000 }) as Column<unknown>],
    ['flag', columnFromArray(Array.from({ length: N }, (_, i) => (i % 5 === 0 ? null : i % 2 === 0)), bool(), { maxBatchRows: 5000 }) as Column<unknown>],
    ['region', columnFromArray(Array.from({ length: N }, (_, i) => (i % 13 === 0 ? null : ['north', 'south', 'east'][i % 3]!)), dictionary(utf8()), { maxBatchRows: 2500 }) as Column<unknown>],
    ['at', ts as Column<unknown>],
  ];
}

describe('alignBatches', () => {
  it('gives every column the same batch boundaries, values and types unchanged', () => {
    const columns = misaligned();
    expect(new Set(columns.map(([, c]) => rowsOf(c).join(','))).size).toBeGreaterThan(1);
    const aligned = alignBatches(columns, 4 * 1024 * 1024);
    const boundaries = aligned.map(([, c]) => rowsOf(c).join(','));
    expect(new Set(boundaries).size).toBe(1);
    // The shortest longest batch (the wide text column's 700 rows): no batch grew.
    expect(rowsOf(aligned[0]![1])[0]).toBe(700);
    for (const [i, [name, column]] of aligned.entries()) {
      expect(column.type, name).toEqual(columns[i]![1].type);
      expect(Array.from(column.toArray() as ArrayLike<unknown>), name).toEqual(Array.from(columns[i]![1].toArray() as ArrayLike<unknown>));
    }
  });

  it('keeps columns that already share boundaries as they are', () => {
    const a = columnFromArray(Int32Array.from({ length: 100 }, (_, i) => i), int32(), { maxBatchRows: 30 }) as Column<unknown>;
    const b = columnFromArray(Array.from({ length: 100 }, (_, i) => `x${i}`), utf8(), { maxBatchRows: 30 }) as Column<unknown>;
    const out = alignBatches([['a', a], ['b', b]], 1024);
    expect(out[0]![1]).toBe(a);
    expect(out[1]![1]).toBe(b);
  });
});

describe('writeTableFile .arrow of a table whose columns are batched differently', () => {
  it('writes it (it threw "Columns have inconsistent batch sizes"), and it reads back exactly, microseconds included', async () => {
    const columns = misaligned();
    const table = toArqueroTable(tableFromColumns(Object.fromEntries(columns)));
    const expected = Object.fromEntries(columns.map(([name, column]) => [name, Array.from(column.toArray() as ArrayLike<unknown>)]));
    for (const ext of ['arrow', 'arrows']) {
      const path = join(dir, `misaligned.${ext}`);
      await writeTableFile(table, path);
      const back = await readTableFile(path);
      expect(back.numRows()).toBe(N);
      for (const name of ['id', 'wide', 'amount', 'flag', 'region']) expect(Array.from(back.array(name) as ArrayLike<unknown>), name).toEqual(expected[name]);
      // The stored microseconds (at() would give milliseconds).
      const raw = tableFromIPC(readFileSync(path)).getChild('at').data.flatMap((b) => Array.from((b.values as BigInt64Array).subarray(0, b.length)));
      expect(raw).toEqual(Array.from({ length: N }, (_, i) => 1_700_000_000_000_123n + BigInt(i) * 1_001n));
    }
  });
});
