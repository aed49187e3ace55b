import { DateUnit, TimeUnit, Type, bool, dateDay, float64, int32, int64, timestamp, utf8, type DataType } from '@uwdata/flechette';
import { arrowTypeOf, type ColumnTypeName } from './arrow-types.js';
import { FrameError } from './errors.js';

/**
 * Text cells to typed values, without ever losing information: a column becomes a number,
 * boolean, date or timestamp column only when every one of its values, written back out,
 * gives exactly the text it came from. Anything else stays text.
 */

const INT_RE = /^(?:0|-?[1-9]\d{0,14})$/; // 15 digits at most: longer account numbers stay text
// No exponent, no '+', no leading '.', at most 15 digits (a 16-digit account number stays text).
const DECIMAL_RE = /^-?\d+(?:\.\d+)?$/;
const digitCount = (text: string) => text.replace(/[^0-9]/g, '').length;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** A decimal number as text: sign, digits with an optional point, an optional exponent. */
const FLOAT_RE = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
/** Spellings of the non-finite floats that exports write (JavaScript, pandas, R). */
const SPECIAL_FLOATS = new Map<string, number>([
  ['nan', Number.NaN], ['inf', Infinity], ['+inf', Infinity], ['-inf', -Infinity], ['infinity', Infinity], ['+infinity', Infinity], ['-infinity', -Infinity],
]);
const TS_UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const TS_NAIVE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{3})?$/;

/** How a date or timestamp value is written: the text form is part of its Arrow type. */
export function formatTemporal(ms: number, type: DataType): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const t = type as DataType & { unit?: number; timezone?: string | null };
  if (type.typeId === Type.Date && t.unit === DateUnit.DAY) return iso.slice(0, 10);
  if (type.typeId === Type.Timestamp) {
    const body = t.unit === TimeUnit.SECOND ? iso.slice(0, 19) : iso.slice(0, 23);
    return t.timezone ? `${body}Z` : body.replace('T', ' ');
  }
  // Other temporal types: midnight is a date, anything else the full ISO form.
  return ms % 86_400_000 === 0 ? iso.slice(0, 10) : iso;
}

function parseTemporal(text: string): number {
  const iso = text.length === 10 ? `${text}T00:00:00Z` : text.endsWith('Z') ? text : `${text.replace(' ', 'T')}Z`;
  return Date.parse(iso);
}

/** A typed column: its Arrow type and its JS values (numbers, strings, booleans, Dates, null). */
export interface TypedValues {
  type: DataType;
  values: unknown[];
}

function inferOne(cells: (string | null)[]): TypedValues {
  let int = true, dec = true, boolean = true, date = true, tsUtc = true, tsNaive = true;
  let ms = false, sec = false, int32Range = true;
  for (const cell of cells) {
    if (cell === null) continue;
    if (cell === '') return { type: utf8(), values: cells };
    if (int && !INT_RE.test(cell)) int = false;
    if (int) {
      const v = Number(cell);
      if (v < -2147483648 || v > 2147483647) int32Range = false;
    }
    if (dec && !(DECIMAL_RE.test(cell) && digitCount(cell) <= 15 && String(Number(cell)) === cell)) dec = false;
    if (boolean && cell !== 'true' && cell !== 'false') boolean = false;
    if (date && !(DATE_RE.test(cell) && formatTemporal(parseTemporal(cell), dateDay()) === cell)) date = false;
    if (tsUtc || tsNaive) {
      const m = TS_UTC_RE.exec(cell) ?? TS_NAIVE_RE.exec(cell);
      if (!m) tsUtc = tsNaive = false;
      else {
        if (m[1]) ms = true;
        else sec = true;
        if (cell.endsWith('Z')) tsNaive = false;
        else tsUtc = false;
      }
    }
    if (!int && !dec && !boolean && !date && !tsUtc && !tsNaive) return { type: utf8(), values: cells };
  }
  const valid = cells.some((c) => c !== null);
  if (!valid) return { type: utf8(), values: cells };
  if (int) return { type: int32Range ? int32() : int64(), values: cells.map((c) => (c === null ? null : Number(c))) };
  if (dec) return { type: float64(), values: cells.map((c) => (c === null ? null : Number(c))) };
  if (boolean) return { type: bool(), values: cells.map((c) => (c === null ? null : c === 'true')) };
  if (date) return { type: dateDay(), values: cells.map((c) => (c === null ? null : new Date(parseTemporal(c)))) };
  if ((tsUtc || tsNaive) && !(ms && sec)) {
    const type = timestamp(ms ? TimeUnit.MILLISECOND : TimeUnit.SECOND, tsUtc ? 'UTC' : null);
    const values = cells.map((c) => (c === null ? null : new Date(parseTemporal(c))));
    // Keep it only when every value formats back to its own text (e.g. no 25:00:00).
    if (cells.every((c, i) => c === null || formatTemporal((values[i] as Date).getTime(), type) === c)) return { type, values };
  }
  return { type: utf8(), values: cells };
}

function convertExplicit(name: string, cells: (string | null)[], typeName: ColumnTypeName, path: string): TypedValues {
  const type = arrowTypeOf(typeName);
  const bad = (row: number, what: string) =>
    new FrameError('COLUMN_TYPE', `${path}: column ${JSON.stringify(name)} row ${row + 1}: ${JSON.stringify(cells[row])} is not ${what}`, { path, column: name, row: row + 1 });
  switch (typeName) {
    case 'string':
    case 'dictionary':
      return { type, values: cells };
    case 'integer':
    case 'int32':
    case 'int64':
    case 'bigint': {
      let wide = false;
      const values = cells.map((c, r) => {
        if (c === null || c === '') return null;
        if (!/^[-+]?\d+$/.test(c.trim())) throw bad(r, 'an integer');
        if (typeName === 'bigint') return BigInt(c.trim());
        const v = Number(c);
        if (!Number.isSafeInteger(v)) throw bad(r, 'an integer JavaScript can hold exactly (use "bigint")');
        if (v < -2147483648 || v > 2147483647) wide = true;
        return v;
      });
      if (typeName === 'int32' && wide) throw bad(cells.findIndex((c) => c !== null && c !== '' && Math.abs(Number(c)) > 2147483647), 'a 32-bit integer');
      return { type: typeName === 'integer' && !wide ? int32() : typeName === 'int32' ? int32() : int64(), values };
    }
    case 'float':
    case 'float32':
      return { type, values: cells.map((c, r) => {
        if (c === null || c === '') return null;
        // Number() alone reads ' ' as 0 and '0x1F' as 31: only decimal text (and NaN/Infinity) is a float.
        const text = c.trim();
        if (FLOAT_RE.test(text)) return Number(text);
        const special = SPECIAL_FLOATS.get(text.toLowerCase());
        if (special === undefined) throw bad(r, 'a number');
        return special;
      }) };
    case 'boolean':
      return { type, values: cells.map((c, r) => {
        if (c === null || c === '') return null;
        const l = c.trim().toLowerCase();
        if (l === 'true' || l === '1' || l === 'yes') return true;
        if (l === 'false' || l === '0' || l === 'no') return false;
        throw bad(r, 'a boolean (true/false, 1/0, yes/no)');
      }) };
    case 'date':
    case 'timestamp':
      return { type, values: cells.map((c, r) => {
        if (c === null || c === '') return null;
        const ms = DATE_RE.test(c) || TS_NAIVE_RE.test(c) ? parseTemporal(c) : Date.parse(c);
        if (Number.isNaN(ms)) throw bad(r, `a ${typeName}`);
        return new Date(ms);
      }) };
  }
}

/** Types the text cells of one column: the caller's type when given, else the safe inference. */
export function typeTextColumn(name: string, cells: (string | null)[], explicit: ColumnTypeName | undefined, path: string): TypedValues {
  return explicit ? convertExplicit(name, cells, explicit, path) : inferOne(cells);
}

/** Types a string-only column of JSON values: only dates and timestamps are recognised (JSON has its own numbers). */
export function typeJsonStrings(cells: (string | null)[]): TypedValues {
  const typed = inferOne(cells);
  const t = typed.type.typeId;
  return t === Type.Date || t === Type.Timestamp ? typed : { type: utf8(), values: cells };
}
