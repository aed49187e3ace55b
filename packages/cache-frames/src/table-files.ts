import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  Column, TimeUnit, Type, bool, dateDay, float32, float64, int32, int64, tableFromColumns, tableFromIPC, tableToIPC,
  timestamp, utf8, type DataType,
} from '@uwdata/flechette';
import { fromArrow, type ColumnTable } from 'arquero';
import type { ColumnTypeName } from './arrow-types.js';
import { buildColumn, isArqueroDictionary, isArrowColumn, toArrowColumn } from './column-builder.js';
import { parseCsv, quoteCell, type CsvDialect } from './csv-format.js';
import { FrameError } from './errors.js';
import { isArqueroTable } from './frame-writer.js';
import { formatTemporal, typeJsonStrings, typeTextColumn } from './text-columns.js';
import { decodeUtf8 } from './utf8.js';

/** File formats of {@link readTableFile} and {@link writeTableFile}. */
export type TableFileFormat = 'csv' | 'tsv' | 'json' | 'arrow' | 'arrow-stream' | 'parquet';

/** Options of {@link readTableFile}. */
export interface ReadTableFileOptions {
  /** @default from the extension: .csv, .tsv/.tab, .json, .arrow/.feather/.ipc, .arrows, .parquet */
  format?: TableFileFormat;
  /** Types of CSV/TSV/JSON columns by name; other columns are inferred (and stay text when in doubt). */
  columnTypes?: Record<string, ColumnTypeName>;
}

/** Options of {@link writeTableFile}. */
export interface WriteTableFileOptions {
  /** @default from the extension, as for reading (Parquet cannot be written) */
  format?: TableFileFormat;
  /** CSV/TSV line ending. @default the one of the file the table was read from, else '\n' */
  newline?: '\n' | '\r\n';
}

const dialects = new WeakMap<object, CsvDialect>();
const BATCH_BYTES = 4 * 1024 * 1024;

/** The format a path's extension names; throws FrameError FILE_FORMAT for an unknown one. */
export function formatOfPath(path: string): TableFileFormat {
  const ext = extname(path).toLowerCase();
  switch (ext) {
    case '.csv': return 'csv';
    case '.tsv': case '.tab': return 'tsv';
    case '.json': return 'json';
    case '.arrow': case '.feather': case '.ipc': return 'arrow';
    case '.arrows': return 'arrow-stream';
    case '.parquet': return 'parquet';
    default:
      throw new FrameError('FILE_FORMAT', `cannot tell the format of ${path} from its extension ${JSON.stringify(ext)}; use .csv, .tsv, .json, .arrow, .feather, .arrows or .parquet, or pass format`, { path });
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FrameError('FILE_NOT_FOUND', `no such file: ${path}`, { path, cause: error });
    throw new FrameError('FILE_UNREADABLE', `cannot read ${path}: ${(error as Error).message}`, { path, cause: error });
  }
  if (bytes.byteLength === 0) throw new FrameError('FILE_EMPTY', `${path} is empty (0 bytes)`, { path });
  return bytes;
}

/** An arquero table over Arrow columns, so that types (and the text form of dates) travel with it. */
function arrowTable(columns: [string, Column<unknown>][]): ColumnTable {
  return fromArrow(tableFromColumns(Object.fromEntries(columns)) as never) as ColumnTable;
}

function fromTyped(name: string, values: unknown[], type: DataType | undefined): Column<unknown> {
  return buildColumn(name, values, type, BATCH_BYTES).column;
}

function readDelimited(text: string, delimiter: string, path: string, columnTypes: Record<string, ColumnTypeName>): ColumnTable {
  const parsed = parseCsv(text, delimiter, path);
  const columns = parsed.header.map((name, c): [string, Column<unknown>] => {
    const typed = typeTextColumn(name, parsed.columns[c]!, columnTypes[name], path);
    parsed.columns[c] = []; // let the text go as soon as the column is typed
    return [name, fromTyped(name, typed.values, typed.type)];
  });
  const table = arrowTable(columns);
  dialects.set(table, parsed.dialect);
  return table;
}

function readJson(text: string, path: string, columnTypes: Record<string, ColumnTypeName>): ColumnTable {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new FrameError('FILE_FORMAT', `${path} is not valid JSON: ${(error as Error).message}`, { path, cause: error });
  }
  if (!Array.isArray(data)) throw new FrameError('FILE_FORMAT', `${path} must hold a JSON array of records, found ${data === null ? 'null' : typeof data}`, { path });
  const names: string[] = [];
  const seen = new Set<string>();
  data.forEach((record, r) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new FrameError('FILE_FORMAT', `${path}: record ${r + 1} is not an object`, { path, row: r + 1 });
    }
    for (const key of Object.keys(record)) if (!seen.has(key)) { seen.add(key); names.push(key); }
  });
  const columns = names.map((name): [string, Column<unknown>] => {
    const values = data.map((record) => (record as Record<string, unknown>)[name] ?? null);
    const explicit = columnTypes[name];
    if (explicit) {
      const typed = typeTextColumn(name, values.map((v) => (v === null ? null : typeof v === 'string' ? v : JSON.stringify(v))), explicit, path);
      return [name, fromTyped(name, typed.values, typed.type)];
    }
    if (values.every((v) => v === null || typeof v === 'string')) {
      const typed = typeJsonStrings(values as (string | null)[]);
      return [name, fromTyped(name, typed.values, typed.type)];
    }
    return [name, fromTyped(name, values, undefined)];
  });
  return arrowTable(columns);
}

async function readParquet(path: string): Promise<ColumnTable> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  let file;
  try {
    file = await asyncBufferFromFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FrameError('FILE_NOT_FOUND', `no such file: ${path}`, { path, cause: error });
    throw new FrameError('FILE_UNREADABLE', `cannot read ${path}: ${(error as Error).message}`, { path, cause: error });
  }
  if (file.byteLength === 0) throw new FrameError('FILE_EMPTY', `${path} is empty (0 bytes)`, { path });
  let rows: Record<string, unknown>[];
  let schema: { name: string; type?: string; converted_type?: string; logical_type?: { type?: string } }[];
  try {
    const metadata = await parquetMetadataAsync(file);
    schema = metadata.schema.slice(1) as typeof schema;
    rows = await parquetReadObjects({ file, metadata });
  } catch (error) {
    throw new FrameError('FILE_FORMAT', `${path} is not a Parquet file this reader understands: ${(error as Error).message}`, { path, cause: error });
  }
  const typeOf = (e: (typeof schema)[number]): DataType | undefined => {
    const logical = e.logical_type?.type;
    if (e.converted_type === 'UTF8' || logical === 'STRING') return utf8();
    if (e.converted_type === 'DATE' || logical === 'DATE') return dateDay();
    if (e.converted_type?.startsWith('TIMESTAMP') || logical === 'TIMESTAMP') return timestamp(TimeUnit.MILLISECOND, 'UTC');
    if (e.converted_type) return undefined;
    switch (e.type) {
      case 'BOOLEAN': return bool();
      case 'INT32': return int32();
      case 'INT64': return int64();
      case 'FLOAT': return float32();
      case 'DOUBLE': return float64();
      default: return undefined;
    }
  };
  return arrowTable(schema.map((e): [string, Column<unknown>] => [e.name, fromTyped(e.name, rows.map((r) => r[e.name] ?? null), typeOf(e))]));
}

/**
 * Reads a CSV, TSV, JSON (array of records), Arrow IPC (.arrow/.feather, .arrows) or Parquet
 * file into an arquero table backed by Arrow columns. CSV/TSV cells keep their exact text unless
 * a type keeps every value (see the README); empty cells are null. Throws FrameError with the
 * path (and row/line or byte offset): FILE_NOT_FOUND, FILE_EMPTY, FILE_ENCODING, FILE_FORMAT,
 * CSV_RAGGED, CSV_QUOTE, COLUMN_TYPE.
 */
export async function readTableFile(path: string, options: ReadTableFileOptions = {}): Promise<ColumnTable> {
  const format = options.format ?? formatOfPath(path);
  const columnTypes = options.columnTypes ?? {};
  if (format === 'parquet') return readParquet(path);
  const bytes = await readBytes(path);
  switch (format) {
    case 'csv': return readDelimited(decodeUtf8(bytes, path), ',', path, columnTypes);
    case 'tsv': return readDelimited(decodeUtf8(bytes, path), '\t', path, columnTypes);
    case 'json': return readJson(decodeUtf8(bytes, path), path, columnTypes);
    case 'arrow':
    case 'arrow-stream':
      try {
        return fromArrow(tableFromIPC(bytes, { useDate: true }) as never) as ColumnTable;
      } catch (error) {
        throw new FrameError('FILE_FORMAT', `${path} is not an Arrow IPC file: ${(error as Error).message}`, { path, cause: error });
      }
    default:
      throw new FrameError('FILE_FORMAT', `unknown format ${JSON.stringify(format)}`, { path });
  }
}

type Formatter = (value: unknown) => string | null;

/** How each value of a column is written as text (CSV) or as a JSON string; null for a null. */
function formatterOf(column: unknown, values: ArrayLike<unknown>): Formatter {
  const plain: Formatter = (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v));
  if (isArrowColumn(column)) {
    const type = column.type;
    if (type.typeId === Type.Date || type.typeId === Type.Timestamp) {
      return (v) => (v === null || v === undefined ? null : formatTemporal(v instanceof Date ? v.getTime() : Number(v), type));
    }
    return plain;
  }
  if (isArqueroDictionary(column)) return plain;
  // Plain JS dates: a column of midnights is a date column, anything else full timestamps.
  let allDays = true;
  let anyDate = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v instanceof Date) {
      anyDate = true;
      if (v.getTime() % 86_400_000 !== 0) { allDays = false; break; }
    }
  }
  if (anyDate && allDays) return (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : plain(v));
  return plain;
}

function columnsOf(table: ColumnTable): { name: string; values: ArrayLike<unknown>; format: Formatter }[] {
  const data = table.data() as Record<string, unknown>;
  return table.columnNames().map((name) => {
    const column = data[name];
    const values = (Array.isArray(column) || ArrayBuffer.isView(column) ? column : (column as { toArray(): ArrayLike<unknown> }).toArray()) as ArrayLike<unknown>;
    return { name, values, format: formatterOf(column, values) };
  });
}

/** Writes pieces of text to a file through a buffer, never holding the whole file. */
function textWriter(fd: number) {
  let parts: string[] = [];
  let size = 0;
  return {
    add(text: string) {
      parts.push(text);
      size += text.length;
      if (size > 1 << 20) this.flush();
    },
    flush() {
      if (parts.length) writeSync(fd, parts.join(''));
      parts = [];
      size = 0;
    },
  };
}

function writeAtomically(path: string, write: (fd: number) => void): void {
  // Write beside the target and rename, so that a failed write never leaves half a file.
  const temp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  let fd: number;
  try {
    fd = openSync(temp, 'w');
  } catch (error) {
    throw new FrameError('FILE_UNREADABLE', `cannot write ${path}: ${(error as Error).message}`, { path, cause: error });
  }
  try {
    write(fd);
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(temp, { force: true });
    if (FrameError.isInstance(error)) throw error;
    throw new FrameError('FILE_UNREADABLE', `cannot write ${path}: ${(error as Error).message}`, { path, cause: error });
  }
}

/**
 * Writes a table as CSV, TSV, JSON (array of records, one per line) or Arrow IPC. CSV cells are
 * quoted only when they must be; nulls are empty cells and empty strings `""`; dates and
 * timestamps keep the text form their Arrow type records. The file is replaced atomically.
 */
export async function writeTableFile(table: ColumnTable, path: string, options: WriteTableFileOptions = {}): Promise<void> {
  if (!isArqueroTable(table)) throw new FrameError('NOT_A_TABLE', `writeTableFile(${path}) needs an arquero table`, { path });
  const format = options.format ?? formatOfPath(path);
  const source = table.isFiltered() || table.isOrdered() ? table.reify() : table;
  switch (format) {
    case 'csv':
    case 'tsv': {
      const remembered = dialects.get(table);
      const delimiter = format === 'csv' ? ',' : '\t';
      const newline = options.newline ?? remembered?.newline ?? '\n';
      const trailing = remembered?.trailingNewline ?? true;
      const columns = columnsOf(source);
      const rows = source.numRows();
      writeAtomically(path, (fd) => {
        const out = textWriter(fd);
        out.add(columns.map((c) => (c.name === '' ? '' : quoteCell(c.name, delimiter))).join(delimiter));
        for (let r = 0; r < rows; r++) {
          let line = newline;
          for (let c = 0; c < columns.length; c++) {
            const col = columns[c]!;
            const text = col.format(col.values[r]);
            if (c > 0) line += delimiter;
            if (text !== null) line += quoteCell(text, delimiter);
          }
          out.add(line);
        }
        if (trailing) out.add(newline);
        out.flush();
      });
      return;
    }
    case 'json': {
      const columns = columnsOf(source);
      const rows = source.numRows();
      writeAtomically(path, (fd) => {
        const out = textWriter(fd);
        out.add('[');
        for (let r = 0; r < rows; r++) {
          const record: Record<string, unknown> = {};
          for (const col of columns) {
            const v = col.values[r];
            record[col.name] = v === null || v === undefined ? null
              : v instanceof Date ? col.format(v)
              : typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v))
              : v;
          }
          out.add(`${r === 0 ? '\n' : ',\n'}${JSON.stringify(record)}`);
        }
        out.add(rows === 0 ? ']\n' : '\n]\n');
        out.flush();
      });
      return;
    }
    case 'arrow':
    case 'arrow-stream': {
      const data = source.data() as Record<string, unknown>;
      const columns = source.columnNames().map((name): [string, Column<unknown>] => [name, toArrowColumn(name, data[name], undefined, BATCH_BYTES).column]);
      const bytes = tableToIPC(tableFromColumns(Object.fromEntries(columns)), { format: format === 'arrow' ? 'file' : 'stream' })!;
      writeAtomically(path, (fd) => {
        writeSync(fd, bytes);
      });
      return;
    }
    case 'parquet':
      throw new FrameError('FILE_FORMAT', `cannot write ${path}: writing Parquet is not supported; write .arrow or .csv instead`, { path });
    default:
      throw new FrameError('FILE_FORMAT', `unknown format ${JSON.stringify(format)}`, { path });
  }
}

