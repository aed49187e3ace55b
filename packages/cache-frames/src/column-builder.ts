import {
  Column, DateUnit, TimeUnit, Type, batchType, bool, columnFromArray, dateDay, dictionary, float64, int32, int64,
  nullType, timestamp, utf8, type Batch, type DataType,
} from '@uwdata/flechette';
import { FrameError } from './errors.js';

/** An Arrow column ready to encode, and how its values must be read back. */
export interface BuiltColumn {
  column: Column<unknown>;
  /** int64 values were BigInt: read them back as BigInt (`useBigInt`). */
  bigint: boolean;
}

const DAY_MS = 86_400_000;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

type Kind = 'null' | 'int32' | 'int64' | 'float64' | 'string' | 'bool' | 'date' | 'timestamp' | 'bigint' | 'other';

/** One pass over JS values: the narrowest Arrow type that keeps every value exactly. */
export function inferKind(values: ArrayLike<unknown>): Kind {
  let nums = 0, ints = 0, int32s = 0, strings = 0, bools = 0, dates = 0, days = 0, bigints = 0, valid = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    valid++;
    switch (typeof v) {
      case 'number':
        nums++;
        // -0 is an integer to JS but not to an int column: keep it a float.
        if (Number.isInteger(v) && !Object.is(v, -0)) {
          ints++;
          if (v >= INT32_MIN && v <= INT32_MAX) int32s++;
        }
        break;
      case 'string': strings++; break;
      case 'boolean': bools++; break;
      case 'bigint': bigints++; break;
      case 'object':
        if (v instanceof Date) {
          dates++;
          if (v.getTime() % DAY_MS === 0) days++;
        }
        break;
    }
    if (nums + strings + bools + bigints + dates !== valid) return 'other';
  }
  if (valid === 0) return 'null';
  if (strings === valid) return 'string';
  if (int32s === valid) return 'int32';
  // Integers beyond int64's exact range for numbers (2^53) are kept as floats: they already are.
  if (ints === valid) return 'int64';
  if (nums === valid) return 'float64';
  if (bools === valid) return 'bool';
  if (bigints === valid) return 'bigint';
  if (days === valid) return 'date';
  if (dates === valid) return 'timestamp';
  return 'other';
}

function typeOfKind(kind: Kind): DataType | undefined {
  switch (kind) {
    case 'null': return nullType();
    case 'int32': return int32();
    case 'int64':
    case 'bigint': return int64();
    case 'float64': return float64();
    case 'string': return utf8();
    case 'bool': return bool();
    case 'date': return dateDay();
    case 'timestamp': return timestamp(TimeUnit.MILLISECOND, 'UTC');
    case 'other': return undefined;
  }
}

/** Rough encoded bytes per row of a type, used to size record batches. */
function bytesPerRow(type: DataType | undefined, values: ArrayLike<unknown>): number {
  if (!type) return 64;
  const t = type as DataType & { bitWidth?: number; precision?: number; unit?: number };
  switch (type.typeId) {
    case Type.Bool: return 0.25;
    case Type.Null: return 0.01;
    case Type.Int: return (t.bitWidth ?? 32) / 8 + 0.125;
    case Type.Float: return [2, 4, 8][t.precision ?? 2]! + 0.125;
    case Type.Date: return t.unit === DateUnit.DAY ? 4.125 : 8.125;
    case Type.Timestamp: return 8.125;
    case Type.Dictionary: return 4.125;
    case Type.Utf8: {
      // Sample so that a 1M-row column costs a few hundred strings, not a pass.
      const n = values.length;
      const step = Math.max(1, Math.floor(n / 512));
      let bytes = 0, seen = 0;
      for (let i = 0; i < n; i += step) {
        const v = values[i];
        if (v !== null && v !== undefined) bytes += Buffer.byteLength(String(v));
        seen++;
      }
      return 4.125 + (seen ? (bytes / seen) * 1.25 : 0);
    }
    default: return 64;
  }
}

/** Rows per record batch so that a batch is about `targetBytes`. */
export function rowsPerBatch(type: DataType | undefined, values: ArrayLike<unknown>, targetBytes: number): number {
  return Math.max(1024, Math.floor(targetBytes / bytesPerRow(type, values)));
}

function typeError(column: string, row: number, value: unknown, expected: string): FrameError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' ? Object.prototype.toString.call(value) : String(value);
  return new FrameError('COLUMN_TYPE', `column ${JSON.stringify(column)} row ${row + 1}: ${shown} is not ${expected}; give the column an explicit type or fix the value`, {
    column, row: row + 1,
  });
}

interface Range { start: number; end: number }

/** Runs steps to the end, synchronously. */
function finish<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

let scratch: Buffer | undefined;

/** A module-wide buffer of at least `size` bytes, reused across batches (contents are scratch). */
function scratchBuffer(size: number): Buffer {
  if (!scratch || scratch.byteLength < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, 1 << 20));
  return scratch;
}

function validity(values: ArrayLike<unknown>, { start, end }: Range): { bits: Uint8Array; nulls: number } {
  let nulls = 0;
  for (let i = start; i < end; i++) if (values[i] === null || values[i] === undefined) nulls++;
  if (nulls === 0) return { bits: new Uint8Array(0), nulls };
  const bits = new Uint8Array(Math.ceil((end - start) / 8));
  for (let i = start; i < end; i++) {
    if (values[i] !== null && values[i] !== undefined) bits[(i - start) >> 3]! |= 1 << ((i - start) & 7);
  }
  return { bits, nulls };
}

function makeBatch(type: DataType, range: Range, v: { bits: Uint8Array; nulls: number }, values: unknown, offsets?: Int32Array, useBigInt = false): Batch<unknown> {
  const BatchClass = batchType(type, { useDate: true, useBigInt }) as new (options: object) => Batch<unknown>;
  return new BatchClass({ length: range.end - range.start, nullCount: v.nulls, type, validity: v.bits, values, ...(offsets ? { offsets } : {}) });
}

function numberAt(name: string, values: ArrayLike<unknown>, i: number, what: string): number {
  const x = values[i];
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint' && what !== 'a float') return Number(x);
  throw typeError(name, i, x, what);
}

function timeAt(name: string, values: ArrayLike<unknown>, i: number, what: string): number {
  const x = values[i];
  const t = x instanceof Date ? x.getTime() : typeof x === 'number' ? x : Number.NaN;
  if (Number.isNaN(t)) throw typeError(name, i, x, what);
  return t;
}

/** Builds one batch with the fast path of `type`; undefined when the type has none. */
function fastBatch(name: string, type: DataType, values: ArrayLike<unknown>, range: Range, bigint: boolean): Batch<unknown> | undefined {
  const { start, end } = range;
  const n = end - start;
  const t = type as DataType & { bitWidth?: number; signed?: boolean; precision?: number; unit?: number };
  const isNull = (i: number) => values[i] === null || values[i] === undefined;
  switch (type.typeId) {
    case Type.Int: {
      if (!t.signed || (t.bitWidth !== 32 && t.bitWidth !== 64)) return undefined;
      const v = validity(values, range);
      if (t.bitWidth === 32) {
        const out = new Int32Array(n);
        for (let i = start; i < end; i++) {
          if (isNull(i)) continue;
          const x = numberAt(name, values, i, 'an integer');
          if (!Number.isInteger(x) || x < INT32_MIN || x > INT32_MAX) throw typeError(name, i, x, 'a 32-bit integer');
          out[i - start] = x;
        }
        return makeBatch(type, range, v, out);
      }
      const out = new BigInt64Array(n);
      for (let i = start; i < end; i++) {
        if (isNull(i)) continue;
        const x = values[i];
        if (typeof x === 'bigint') out[i - start] = x;
        else if (typeof x === 'number' && Number.isInteger(x)) out[i - start] = BigInt(x);
        else throw typeError(name, i, x, 'an integer');
      }
      return makeBatch(type, range, v, out, undefined, bigint);
    }
    case Type.Float: {
      if (t.precision !== 2) return undefined;
      const v = validity(values, range);
      const out = new Float64Array(n);
      for (let i = start; i < end; i++) if (!isNull(i)) out[i - start] = numberAt(name, values, i, 'a number');
      return makeBatch(type, range, v, out);
    }
    case Type.Bool: {
      const v = validity(values, range);
      const out = new Uint8Array(Math.ceil(n / 8));
      for (let i = start; i < end; i++) {
        const x = values[i];
        if (x === true) out[(i - start) >> 3]! |= 1 << ((i - start) & 7);
        else if (x !== false && x !== null && x !== undefined) throw typeError(name, i, x, 'a boolean');
      }
      return makeBatch(type, range, v, out);
    }
    case Type.Date: {
      if (t.unit !== DateUnit.DAY) return undefined;
      const v = validity(values, range);
      const out = new Int32Array(n);
      for (let i = start; i < end; i++) if (!isNull(i)) out[i - start] = Math.floor(timeAt(name, values, i, 'a date') / DAY_MS);
      return makeBatch(type, range, v, out);
    }
    case Type.Timestamp: {
      if (t.unit !== TimeUnit.MILLISECOND && t.unit !== TimeUnit.SECOND) return undefined;
      const v = validity(values, range);
      const out = new BigInt64Array(n);
      const div = t.unit === TimeUnit.SECOND ? 1000 : 1;
      for (let i = start; i < end; i++) if (!isNull(i)) out[i - start] = BigInt(Math.floor(timeAt(name, values, i, 'a timestamp') / div));
      return makeBatch(type, range, v, out);
    }
    case Type.Utf8: {
      const v = validity(values, range);
      let units = 0;
      for (let i = start; i < end; i++) {
        const x = values[i];
        units += typeof x === 'string' ? x.length : x === null || x === undefined ? 0 : String(x).length;
      }
      // Write into a reused scratch buffer (3 bytes per UTF-16 unit is the UTF-8 worst case),
      // copying ASCII by hand: far fewer allocations than one encode call or string per value.
      const scratch = scratchBuffer(units * 3);
      const offsets = new Int32Array(n + 1);
      let o = 0;
      for (let i = start; i < end; i++) {
        const x = values[i];
        const text = typeof x === 'string' ? x : x === null || x === undefined ? '' : String(x);
        const length = text.length;
        let k = 0;
        for (; k < length; k++) {
          const c = text.charCodeAt(k);
          if (c > 127) break;
          scratch[o + k] = c;
        }
        o += k < length ? k + scratch.write(text.slice(k), o + k, 'utf8') : length;
        offsets[i - start + 1] = o;
      }
      // A copy: Buffer#slice would share (and later overwrite) the scratch memory.
      return makeBatch(type, range, v, Uint8Array.prototype.slice.call(scratch, 0, o), offsets);
    }
    default:
      return undefined;
  }
}

/**
 * Builds an Arrow column from JS values (an array or typed array): the given type, or the
 * narrowest type that keeps every value (strings as plain utf8, never inferred as a dictionary:
 * that is slow to build for many distinct values). Batches hold about `batchBytes` each, or
 * exactly `batchRows` rows when given (the last one fewer).
 * Throws FrameError COLUMN_TYPE for a value that does not fit the type.
 */
export function buildColumn(name: string, values: ArrayLike<unknown>, type: DataType | undefined, batchBytes: number, batchRows?: number): BuiltColumn {
  return finish(buildColumnSteps(name, values, type, batchBytes, batchRows));
}

/**
 * {@link buildColumn} as steps: the generator yields after each record batch, so that a caller
 * can let the event loop run between batches (a 10,000,000-row column takes seconds to build, and
 * a process that does not look at its sockets that long misses its own deadlines and heartbeats).
 */
export function* buildColumnSteps(name: string, values: ArrayLike<unknown>, type: DataType | undefined, batchBytes: number, batchRows?: number): Generator<void, BuiltColumn> {
  const isTyped = ArrayBuffer.isView(values) && !(values instanceof DataView);
  if (!type && isTyped) {
    const rows = batchRows ?? rowsPerBatch(float64(), values, batchBytes);
    return { column: columnFromArray(values as never, undefined, { maxBatchRows: rows }) as Column<unknown>, bigint: values instanceof BigInt64Array || values instanceof BigUint64Array };
  }
  let bigint = false;
  if (!type) {
    const kind = inferKind(values);
    bigint = kind === 'bigint';
    type = typeOfKind(kind);
  } else if (type.typeId === Type.Int && (type as { bitWidth: number }).bitWidth === 64) {
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] === 'bigint') { bigint = true; break; }
    }
  }
  const rows = batchRows ?? rowsPerBatch(type, values, batchBytes);
  if (type) {
    const batches: Batch<unknown>[] = [];
    let fast = true;
    for (let start = 0; start < values.length && fast; start += rows) {
      const batch = fastBatch(name, type, values, { start, end: Math.min(values.length, start + rows) }, bigint);
      if (batch) batches.push(batch);
      else fast = false;
      yield;
    }
    if (fast) return { column: new Column(batches, type), bigint };
  }
  const array = Array.isArray(values) ? values : Array.from(values);
  try {
    return { column: columnFromArray(array, type, { maxBatchRows: rows }) as Column<unknown>, bigint };
  } catch (error) {
    throw new FrameError('COLUMN_TYPE', `column ${JSON.stringify(name)} cannot be encoded as Arrow: ${(error as Error).message}`, { column: name, cause: error });
  }
}

/** True for a flechette column (what arquero holds for a table read from Arrow). */
export function isArrowColumn(value: unknown): value is Column<unknown> {
  if (value instanceof Column) return true;
  const c = value as { type?: { typeId?: unknown }; data?: unknown; toArray?: unknown };
  return typeof c === 'object' && c !== null && typeof c.type?.typeId === 'number' && Array.isArray(c.data) &&
    typeof c.toArray === 'function' && (c.data as unknown[]).every((b) => typeof b === 'object' && b !== null && 'validity' in b);
}

/** True for arquero's wrapper of a dictionary-encoded Arrow column (it has no `type`). */
export function isArqueroDictionary(value: unknown): value is { toArray(): unknown[]; length: number } {
  const c = value as Record<string, unknown>;
  return typeof c === 'object' && c !== null && typeof c.keyFor === 'function' && typeof c.groups === 'function' && typeof c.toArray === 'function' && !('type' in c);
}

function sizeOfBatch(batch: Batch<unknown>): number {
  const b = batch as unknown as { validity?: Uint8Array; values?: ArrayBufferView; offsets?: ArrayBufferView };
  return (b.validity?.byteLength ?? 0) + (b.values?.byteLength ?? 0) + (b.offsets?.byteLength ?? 0);
}

/**
 * The Arrow column of one arquero column, reusing Arrow data when the table came from Arrow.
 * `explicit` wins over everything. Batches much larger than `batchBytes` are rebuilt.
 */
export function toArrowColumn(name: string, column: unknown, explicit: DataType | undefined, batchBytes: number): BuiltColumn {
  return finish(toArrowColumnSteps(name, column, explicit, batchBytes));
}

/** {@link toArrowColumn} as steps, yielding between record batches (see {@link buildColumnSteps}). */
export function* toArrowColumnSteps(name: string, column: unknown, explicit: DataType | undefined, batchBytes: number): Generator<void, BuiltColumn> {
  if (!explicit && isArrowColumn(column)) {
    const type = column.type;
    const bigint = type.typeId === Type.Int && (type as { bitWidth: number }).bitWidth === 64 && column.data.some((b) => b.values instanceof BigInt64Array && typeof b.at(0) === 'bigint');
    if (column.data.every((b) => sizeOfBatch(b) <= batchBytes * 2) && column.data.length > 0) return { column, bigint };
    return yield* buildColumnSteps(name, column.toArray() as ArrayLike<unknown>, type, batchBytes);
  }
  if (!explicit && isArqueroDictionary(column)) {
    const values = column.toArray();
    const rows = rowsPerBatch(dictionary(utf8()), values, batchBytes);
    const allStrings = values.every((v) => v === null || v === undefined || typeof v === 'string');
    if (allStrings) return { column: columnFromArray(values, dictionary(utf8()), { maxBatchRows: rows }) as Column<unknown>, bigint: false };
    return yield* buildColumnSteps(name, values, undefined, batchBytes);
  }
  if (Array.isArray(column) || (ArrayBuffer.isView(column) && !(column instanceof DataView))) {
    return yield* buildColumnSteps(name, column as ArrayLike<unknown>, explicit, batchBytes);
  }
  const c = column as { toArray?: () => ArrayLike<unknown> };
  if (typeof c?.toArray === 'function') return yield* buildColumnSteps(name, c.toArray(), explicit, batchBytes);
  throw new FrameError('NOT_A_TABLE', `column ${JSON.stringify(name)} is not an array or an Arrow column`, { column: name });
}
