import { closeSync, constants, fstatSync, ftruncateSync, openSync, rmSync, writeSync } from 'node:fs';
import { extname } from 'node:path';
import {
  Column, TimeUnit, Type, bool, dateDay, float32, float64, int32, int64, tableFromColumns, tableFromIPC, tableToIPC,
  timestamp, utf8, type DataType,
} from '@uwdata/flechette';
import { FinRiskCacheError } from '@finrisk/cache-core';
import type { ColumnTable } from 'arquero';
import type { ColumnTypeName } from './arrow-types.js';
import { toArqueroTable } from './arquero-table.js';
import { alignBatches } from './batch-alignment.js';
import { buildColumn, isArqueroDictionary, isArrowColumn, toArrowColumn } from './column-builder.js';
import { parseCsv, quoteCell, type CsvDialect } from './csv-format.js';
import { FrameError } from './errors.js';
import { isArqueroTable } from './frame-writer.js';
import { checkIpcFile, checkIpcStream, rowsHeld } from './ipc-check.js';
import { formatTemporal, typeJsonStrings, typeTextColumn } from './text-columns.js';
import { collect, DEFAULT_MAX_FILE_BYTES, describeFileType, isArrowFile, openTableFile, piecesOf, type SourceCheck, type SourceContent } from './table-source.js';

/** File formats of {@link readTableFile} and {@link writeTableFile}. */
export type TableFileFormat = 'csv' | 'tsv' | 'json' | 'arrow' | 'arrow-stream' | 'parquet';

/** Options of {@link readTableFile}. */
export interface ReadTableFileOptions {
  /** @default from the extension: .csv, .tsv/.tab, .json, .arrow/.feather/.ipc, .arrows, .parquet */
  format?: TableFileFormat;
  /** Types of CSV/TSV/JSON columns by name; other columns are inferred (and stay text when in doubt). */
  columnTypes?: Record<string, ColumnTypeName>;
  /**
   * Largest file read, in bytes: a larger one throws FrameError FILE_TOO_LARGE before it is read
   * (a 100 MB CSV takes about 1 GB of memory to parse and type). @default 268435456 (256 MiB)
   */
  maxBytes?: number;
}

/** Options of {@link readTableStream}. */
export interface ReadTableStreamOptions extends Omit<ReadTableFileOptions, 'format'> {
  /** The format of the bytes (there is no extension to tell it). */
  format: TableFileFormat;
  /** Names the source in errors. @default 'standard input' */
  label?: string;
}

/** Options of {@link writeTableFile}. */
export interface WriteTableFileOptions {
  /** @default from the extension, as for reading (Parquet cannot be written) */
  format?: TableFileFormat;
  /** CSV/TSV line ending. @default the one of the file the table was read from, else '\n' */
  newline?: '\n' | '\r\n' | '\r';
  /**
   * What to do when `path` exists: true rewrites it in place (its mode, owner, hard links and
   * symlinks stay; a write that fails midway leaves part of the table in it), false throws
   * FrameError FILE_EXISTS. A new file is always created exclusively. @default true
   */
  overwrite?: boolean;
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

/** An arquero table over Arrow columns, so that types (and the text form of dates) travel with it. */
function arrowTable(columns: [string, Column<unknown>][]): ColumnTable {
  return toArqueroTable(tableFromColumns(Object.fromEntries(columns)));
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

async function readParquet(bytes: Uint8Array, label: string): Promise<ColumnTable> {
  const { parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  // An ArrayBuffer is an AsyncBuffer to hyparquet; the bytes were read within maxBytes.
  const file = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer as ArrayBuffer : Uint8Array.prototype.slice.call(bytes).buffer;
  let rows: Record<string, unknown>[];
  let schema: { name: string; type?: string; converted_type?: string; logical_type?: { type?: string } }[];
  try {
    const metadata = await parquetMetadataAsync(file);
    schema = metadata.schema.slice(1) as typeof schema;
    rows = await parquetReadObjects({ file, metadata });
  } catch (error) {
    throw new FrameError('FILE_FORMAT', `${label} is not a Parquet file this reader understands: ${(error as Error).message}`, { path: label, cause: error });
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

/** Parses what a source held, in `format`. */
async function tableOf(content: SourceContent, format: TableFileFormat, label: string, columnTypes: Record<string, ColumnTypeName>): Promise<ColumnTable> {
  if (content.kind === 'text') {
    switch (format) {
      case 'csv': return readDelimited(content.text, ',', label, columnTypes);
      case 'tsv': return readDelimited(content.text, '\t', label, columnTypes);
      default: return readJson(content.text, label, columnTypes);
    }
  }
  if (format === 'parquet') return readParquet(content.bytes, label);
  const problem = isArrowFile(content.bytes) ? checkIpcFile(content.bytes) : checkIpcStream(content.bytes);
  if (problem) throw new FrameError('FILE_FORMAT', `${label} is not an Arrow IPC file: ${problem}`, { path: label });
  let decoded: ReturnType<typeof tableFromIPC>;
  try {
    decoded = tableFromIPC(content.bytes, { useDate: true });
  } catch (error) {
    throw new FrameError('FILE_FORMAT', `${label} is not an Arrow IPC file: ${(error as Error).message}`, { path: label, cause: error });
  }
  decoded.children.forEach((column, c) => {
    const held = rowsHeld(decoded.schema.fields[c]?.type.typeId ?? 0, [content.bytes]);
    if (column.length > held) {
      throw new FrameError('FILE_FORMAT', `${label} is not an Arrow IPC file this reader trusts: a column claims ${column.length} rows in ${content.bytes.byteLength} bytes`, { path: label });
    }
  });
  try {
    return toArqueroTable(decoded);
  } catch (error) {
    throw new FrameError('FILE_FORMAT', `${label} is not an Arrow IPC file: ${(error as Error).message}`, { path: label, cause: error });
  }
}

function checkOf(format: TableFileFormat, label: string): SourceCheck {
  switch (format) {
    case 'csv': case 'tsv': case 'json': return 'text';
    case 'arrow': case 'arrow-stream': return 'arrow';
    case 'parquet': return 'bytes';
    default: throw new FrameError('FILE_FORMAT', `unknown format ${JSON.stringify(format)}`, { path: label });
  }
}

function maxBytesOf(options: { maxBytes?: number }): number {
  const max = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (!(max > 0)) throw new FinRiskCacheError('E_INVALID_CONFIG', `maxBytes must be a positive number of bytes, got ${String(max)}`);
  return max;
}

/**
 * Reads a CSV, TSV, JSON (array of records), Arrow IPC (.arrow/.feather, .arrows) or Parquet
 * file into an arquero table backed by Arrow columns. CSV/TSV cells keep their exact text unless
 * a type keeps every value (see the README); empty cells are null. Only regular files are read
 * (a pipe goes through {@link readTableStream}), at most `maxBytes` of them, checked as they are
 * read. Throws FrameError with the path (and row/line or byte offset): FILE_NOT_FOUND,
 * FILE_UNREADABLE, FILE_NOT_REGULAR, FILE_TOO_LARGE, FILE_EMPTY, FILE_ENCODING, FILE_FORMAT,
 * CSV_RAGGED, CSV_QUOTE, COLUMN_TYPE.
 */
export async function readTableFile(path: string, options: ReadTableFileOptions = {}): Promise<ColumnTable> {
  const maxBytes = maxBytesOf(options);
  // What the path is comes first: a FIFO named x.pipe is a FIFO before it is an unknown format.
  const { handle, size } = await openTableFile(path, maxBytes);
  let content: SourceContent;
  let format: TableFileFormat;
  try {
    format = options.format ?? formatOfPath(path);
    content = await collect(piecesOf(handle), { label: path, check: checkOf(format, path), maxBytes, size });
  } catch (error) {
    if (FrameError.isInstance(error)) throw error;
    throw new FrameError('FILE_UNREADABLE', `cannot read ${path}: ${(error as Error).message}`, { path, cause: error });
  } finally {
    await handle.close().catch(() => undefined);
  }
  return tableOf(content, format, path, options.columnTypes ?? {});
}

/**
 * Reads a table from a stream of bytes, e.g. standard input or a pipe, with the same checks as
 * {@link readTableFile}: at most `maxBytes` are read (more throws FILE_TOO_LARGE as soon as they
 * arrive), text must be UTF-8 and Arrow must begin with a schema. The format cannot come from an
 * extension, so it is required. Errors from the stream itself (an abort) pass through unchanged.
 */
export async function readTableStream(source: AsyncIterable<Uint8Array>, options: ReadTableStreamOptions): Promise<ColumnTable> {
  const label = options.label ?? 'standard input';
  const check = checkOf(options.format, label);
  const content = await collect(source, { label, check, maxBytes: maxBytesOf(options) });
  return tableOf(content, options.format, label, options.columnTypes ?? {});
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

/**
 * Opens `path` to write a table into it. A new file is created exclusively (O_EXCL), so a file
 * that appears meanwhile is never clobbered. An existing file is refused unless `overwrite`, and
 * then rewritten in place (truncated, not replaced): its inode stays, so its mode, owner, ACLs,
 * hard links and the symlinks pointing at it are what they were, as with `cp` or a shell's `>`.
 * Replacing it by a renamed temporary file would be atomic but would make a 0600 file 0644, cut
 * hard links, turn a symlink into a file and need write access to the folder.
 */
function openForWrite(path: string, overwrite: boolean): { fd: number; created: boolean } {
  const unwritable = (error: unknown) =>
    new FrameError('FILE_UNWRITABLE', `cannot write ${path}: ${(error as Error).message}`, { path, cause: error });
  try {
    return { fd: openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666), created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unwritable(error);
  }
  if (!overwrite) {
    throw new FrameError('FILE_EXISTS', `${path} exists; overwrite it on purpose (the CLI's --force), or choose another path`, { path });
  }
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO with no reader fails (ENXIO) instead of blocking the process.
    fd = openSync(path, constants.O_WRONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') {
      throw new FrameError('FILE_NOT_REGULAR', `${path} is a FIFO (a pipe), not a regular file`, { path, cause: error });
    }
    throw unwritable(error);
  }
  try {
    // bigint: a plain fstatSync of a FIFO leaves its mode in the buffer Node 20's module resolver
    // reads next, and a later lazy import then fails (nodejs/node#51142).
    const stat = fstatSync(fd, { bigint: true });
    if (!stat.isFile()) throw new FrameError('FILE_NOT_REGULAR', `${path} is ${describeFileType(stat)}, not a regular file`, { path });
    ftruncateSync(fd, 0);
  } catch (error) {
    closeSync(fd);
    throw FrameError.isInstance(error) ? error : unwritable(error);
  }
  return { fd, created: false };
}

function writeFile(path: string, overwrite: boolean, write: (fd: number) => void): void {
  const { fd, created } = openForWrite(path, overwrite);
  try {
    write(fd);
    closeSync(fd);
  } catch (error) {
    try { closeSync(fd); } catch { /* already closed */ }
    // A file this call created goes again; one rewritten in place cannot get its old bytes back.
    if (created) rmSync(path, { force: true });
    if (FrameError.isInstance(error)) throw error;
    const what = created ? '' : ' (it was rewritten in place and holds part of the table: write it again)';
    throw new FrameError('FILE_UNWRITABLE', `cannot write ${path}: ${(error as Error).message}${what}`, { path, cause: error });
  }
}

/**
 * Writes a table as CSV, TSV, JSON (array of records, one per line) or Arrow IPC. CSV cells are
 * quoted only when they must be; nulls are empty cells and empty strings `""`; dates and
 * timestamps keep the text form their Arrow type records. A new file is created exclusively and
 * removed again if the write fails; an existing one is rewritten in place (see `overwrite`).
 * Throws FrameError naming `path`: FILE_EXISTS, FILE_NOT_REGULAR, FILE_UNWRITABLE, FILE_FORMAT.
 */
export async function writeTableFile(table: ColumnTable, path: string, options: WriteTableFileOptions = {}): Promise<void> {
  if (!isArqueroTable(table)) throw new FrameError('NOT_A_TABLE', `writeTableFile(${path}) needs an arquero table`, { path });
  const format = options.format ?? formatOfPath(path);
  const overwrite = options.overwrite ?? true;
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
      writeFile(path, overwrite, (fd) => {
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
      writeFile(path, overwrite, (fd) => {
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
      const built = source.columnNames().map((name): [string, Column<unknown>] => [name, toArrowColumn(name, data[name], undefined, BATCH_BYTES).column]);
      const columns = alignBatches(built, BATCH_BYTES);
      const bytes = tableToIPC(tableFromColumns(Object.fromEntries(columns)), { format: format === 'arrow' ? 'file' : 'stream' })!;
      writeFile(path, overwrite, (fd) => {
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

