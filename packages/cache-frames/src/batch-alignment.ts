import { Column, Type, type Batch, type DataType } from '@uwdata/flechette';
import { buildColumn } from './column-builder.js';
import { FrameError } from './errors.js';

/**
 * Columns of one Arrow IPC record batch must have the same number of rows, but the columns of a
 * table read from the cache do not share batch boundaries: each column is stored in batches of
 * about the same bytes, so a wide text column has more, shorter batches than an int column
 * (100,000 rows of 200-byte text beside an int column was "Columns have inconsistent batch
 * sizes" in `get-df --output x.arrow`). This gives every column the same boundaries: columns
 * that already have them are kept as they are (no copy); the others are rebatched to the
 * shortest longest-batch of all, so that no batch grows past what its column was sized for.
 */
export function alignBatches(columns: readonly [string, Column<unknown>][], batchBytes: number): [string, Column<unknown>][] {
  const lengths = columns.map(([, column]) => column.data.map((b) => b.length));
  const first = lengths[0];
  if (!first || lengths.every((l) => l.length === first.length && l.every((n, i) => n === first[i]))) return [...columns];
  const rows = Math.max(1, Math.min(...lengths.map((l) => Math.max(0, ...l))));
  return columns.map(([name, column], c) => {
    const current = lengths[c]!;
    const aligned = current.length === Math.max(1, Math.ceil(column.length / rows)) && current.every((n, i) => n === Math.min(rows, column.length - rows * i));
    return [name, aligned ? column : rebatch(name, column, rows, batchBytes)];
  });
}

/** Types whose values array holds one element per row, read back exactly as stored. */
function isFixedWidth(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Int: case Type.Float: case Type.Date: case Type.Timestamp: case Type.Time: case Type.Duration:
      return true;
    default:
      return false;
  }
}

/** `column` in batches of `rows` rows (the last one shorter). */
function rebatch(name: string, column: Column<unknown>, rows: number, batchBytes: number): Column<unknown> {
  const { type } = column;
  if (isFixedWidth(type) && column.data.every((b) => ArrayBuffer.isView(b.values))) return rebatchFixedWidth(column, rows);
  // Text, booleans, dictionaries and the rest: rebuilt from their values, which these types read
  // back exactly (strings, booleans, numbers), with the column's own Arrow type.
  try {
    return buildColumn(name, column.toArray() as ArrayLike<unknown>, type, batchBytes, rows).column;
  } catch (error) {
    if (FrameError.isInstance(error)) throw error;
    throw new FrameError('COLUMN_TYPE', `column ${JSON.stringify(name)} cannot be written as Arrow beside the other columns: ${(error as Error).message}`, { column: name, cause: error });
  }
}

type Values = Exclude<ArrayBufferView, DataView> & { length: number; subarray(start: number, end: number): Values; set(source: ArrayLike<unknown>, offset: number): void };

/**
 * Fixed-width columns are cut from their raw values, not rebuilt from what `at()` returns: a
 * microsecond timestamp read as a Date would lose its microseconds.
 */
function rebatchFixedWidth(column: Column<unknown>, rows: number): Column<unknown> {
  const batches = column.data as Batch<unknown>[];
  const sample = batches[0]!;
  const ValuesType = (sample.values as Values).constructor as new (length: number) => Values;
  const all = new ValuesType(column.length);
  const valid = new Uint8Array(column.length);
  let at = 0;
  for (const batch of batches) {
    all.set((batch.values as Values).subarray(0, batch.length) as unknown as ArrayLike<unknown>, at);
    for (let i = 0; i < batch.length; i++) valid[at + i] = batch.nullCount === 0 || batch.isValid(i) ? 1 : 0;
    at += batch.length;
  }
  const BatchType = sample.constructor as new (options: object) => Batch<unknown>;
  const out: Batch<unknown>[] = [];
  for (let start = 0; start < column.length; start += rows) {
    const end = Math.min(column.length, start + rows);
    let nulls = 0;
    for (let i = start; i < end; i++) nulls += 1 - valid[i]!;
    let validity = new Uint8Array(0);
    if (nulls > 0) {
      validity = new Uint8Array(Math.ceil((end - start) / 8));
      for (let i = start; i < end; i++) if (valid[i]) validity[(i - start) >> 3]! |= 1 << ((i - start) & 7);
    }
    out.push(new BatchType({ length: end - start, nullCount: nulls, type: column.type, validity, values: all.subarray(start, end) }));
  }
  return new Column(out, column.type);
}
