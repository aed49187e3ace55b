import { constants, type BigIntStats, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { FrameError } from './errors.js';
import { MessageType } from './ipc-messages.js';
import { Utf8Collector } from './utf8.js';

/**
 * Reading the bytes of a table file or a pipe, with the checks done as the bytes arrive: a size
 * bound, strict UTF-8 for text formats, an Arrow schema for Arrow files. Nothing is read twice
 * and nothing past the bound is held.
 */

/** Largest table file read by default, in bytes (a 100 MB CSV takes about 1 GB of memory to cache). */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** Size of one read, in bytes. */
const PIECE_BYTES = 1024 * 1024;

/** What a source yields: the bytes, or the text for CSV/TSV/JSON. */
export type SourceContent = { kind: 'text'; text: string } | { kind: 'bytes'; bytes: Uint8Array };

/** How the bytes are checked as they arrive. */
export type SourceCheck = 'text' | 'arrow' | 'bytes';

/** What a file is, for an error message: `a directory`, `a FIFO (named pipe)`, ... */
export function describeFileType(stat: Stats | BigIntStats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (a pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens a table file for reading. Refuses what is not a regular file (a FIFO, `/dev/stdin` on a
 * pipe, `<(...)`, a device, a directory) with FILE_NOT_REGULAR, and a file over `maxBytes` with
 * FILE_TOO_LARGE, before reading a byte. O_NONBLOCK: opening a FIFO with no writer must not block
 * (a thread blocked in open() or read() keeps the process alive through SIGTERM).
 */
export async function openTableFile(path: string, maxBytes: number): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FrameError('FILE_NOT_FOUND', `no such file: ${path}`, { path, cause: error });
    throw new FrameError('FILE_UNREADABLE', `cannot read ${path}: ${(error as Error).message}`, { path, cause: error });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new FrameError(
        'FILE_NOT_REGULAR',
        `${path} is ${describeFileType(stat)}, not a regular file; read a pipe with readTableStream (the CLI: FILE -), or save it to a file first`,
        { path },
      );
    }
    if (stat.size > maxBytes) throw tooLarge(path, stat.size, maxBytes);
    if (stat.size === 0) throw new FrameError('FILE_EMPTY', `${path} is empty (0 bytes)`, { path });
    return { handle, size: stat.size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

function tooLarge(label: string, size: number | undefined, maxBytes: number): FrameError {
  const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
  return new FrameError(
    'FILE_TOO_LARGE',
    `${label} is ${size === undefined ? 'larger than' : `${size} bytes, over`} the limit of ${maxBytes} bytes (${mib(maxBytes)}) for a table file; ` +
      'raise maxBytes (the CLI\'s --max-file-mb) to read it',
    { path: label },
  );
}

/**
 * The pieces of an open file, read in order, into one reused buffer: a piece is valid until the
 * next is asked for (the reader decodes or copies it at once), so reading a file allocates one
 * buffer, not one per MiB left for the collector.
 */
export async function* piecesOf(handle: FileHandle): AsyncGenerator<Uint8Array> {
  const buffer = Buffer.allocUnsafe(PIECE_BYTES);
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, PIECE_BYTES, null);
    if (bytesRead === 0) return;
    yield buffer.subarray(0, bytesRead);
  }
}

const MAGIC = 'ARROW1';

function hasMagic(bytes: Uint8Array, at: number): boolean {
  return at >= 0 && bytes.length >= at + 6 && String.fromCharCode(...bytes.subarray(at, at + 6)) === MAGIC;
}

/** True when `bytes` begins like an Arrow IPC file (`ARROW1`), not a stream: what flechette decodes them as. */
export function isArrowFile(bytes: Uint8Array): boolean {
  return hasMagic(bytes, 0);
}

/** The position of field `index` of the flatbuffer table at `table`, or 0 when absent or out of `[start, end)`. */
function fieldAt(view: DataView, table: number, index: number, start: number, end: number): number {
  if (table < start || table + 4 > end) return 0;
  const vtable = table - view.getInt32(table, true);
  if (vtable < start || vtable + 4 > end) return 0;
  const vtableLength = view.getUint16(vtable, true);
  const at = 4 + index * 2;
  if (at + 2 > vtableLength || vtable + at + 2 > end) return 0;
  const offset = view.getUint16(vtable + at, true);
  return offset === 0 || table + offset >= end ? 0 : table + offset;
}

/**
 * The type of the first message of an Arrow IPC stream (1 is a schema), `short` when more bytes
 * are needed to tell, or `none` when the bytes cannot be an Arrow stream.
 */
export function firstStreamMessage(bytes: Uint8Array): number | 'short' | 'none' {
  if (bytes.length < 8) return 'short';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let length = view.getInt32(at, true);
  at += 4;
  if (length === -1) {
    length = view.getInt32(at, true);
    at += 4;
  }
  // 0 is the end-of-stream marker: a stream with no schema is no table.
  if (length < 8) return 'none';
  if (bytes.length < at + length) return length > 64 * 1024 * 1024 ? 'none' : 'short';
  // The metadata is a flatbuffer `Message` table: its header type is field 1 (a uint8).
  const typeAt = fieldAt(view, at + view.getUint32(at, true), 1, at, at + length);
  return typeAt === 0 ? 'none' : view.getUint8(typeAt);
}

/** True when `bytes` is a whole Arrow IPC file: magic at both ends and a footer that holds a schema. */
export function isArrowFileWithSchema(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < 8 + 10 || !hasMagic(bytes, 0) || !hasMagic(bytes, n - 6)) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerLength = view.getInt32(n - 10, true);
  const start = n - 10 - footerLength;
  if (footerLength < 8 || start < 8) return false;
  // The footer is a flatbuffer `Footer` table whose field 1 is the schema.
  return fieldAt(view, start + view.getUint32(start, true), 1, start, n - 10) !== 0;
}

/**
 * Reads `pieces` into text or bytes, checking as they arrive: more than `maxBytes` throws
 * FILE_TOO_LARGE, invalid UTF-8 (`check: 'text'`) FILE_ENCODING, bytes that do not open with an
 * Arrow schema (`check: 'arrow'`) FILE_FORMAT, and no bytes at all FILE_EMPTY. A piece is used
 * before the next is read and never kept (it is decoded, or copied into the result); `size`, when
 * known, sizes the result once.
 */
export async function collect(
  pieces: AsyncIterable<Uint8Array>,
  options: { label: string; check: SourceCheck; maxBytes: number; size?: number },
): Promise<SourceContent> {
  const { label, check, maxBytes } = options;
  const text = check === 'text' ? new Utf8Collector(label, options.size) : undefined;
  const bytes = new ByteCollector(text ? 0 : options.size);
  let total = 0;
  let schemaSeen = check !== 'arrow';
  for await (const piece of pieces) {
    total += piece.length;
    if (total > maxBytes) throw tooLarge(label, options.size, maxBytes);
    if (text) {
      text.push(piece);
      continue;
    }
    bytes.push(piece);
    if (!schemaSeen) schemaSeen = arrowSchemaCheck(bytes.whole(), label, false);
  }
  if (total === 0) throw new FrameError('FILE_EMPTY', `${label} is empty (0 bytes)`, { path: label });
  if (text) return { kind: 'text', text: text.text() };
  if (!schemaSeen) arrowSchemaCheck(bytes.whole(), label, true);
  return { kind: 'bytes', bytes: bytes.whole() };
}

/** Bytes copied into one buffer that grows by doubling (or is the expected size from the start). */
class ByteCollector {
  #buffer: Uint8Array;
  #length = 0;

  constructor(size?: number) {
    this.#buffer = new Uint8Array(size ?? 64 * 1024);
  }

  push(piece: Uint8Array): void {
    if (this.#length + piece.length > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + piece.length));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(piece, this.#length);
    this.#length += piece.length;
  }

  /** What was pushed, without copying it. */
  whole(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }
}

/**
 * Whether the Arrow bytes read so far are known to hold a schema: a stream must open with one;
 * a file (`ARROW1` magic) keeps it in its footer, checked once the whole file is read.
 */
function arrowSchemaCheck(head: Uint8Array, label: string, atEnd: boolean): boolean {
  if (!atEnd && head.length < 8) return false;
  let problem: string | undefined;
  if (hasMagic(head, 0)) {
    if (!atEnd) return false;
    if (!isArrowFileWithSchema(head)) problem = 'it begins like an Arrow file but has no footer with a schema (truncated?)';
  } else {
    const type = firstStreamMessage(head);
    if (type === 'short' && !atEnd) return false;
    if (type !== MessageType.schema) problem = `it does not begin with an Arrow schema${type === 'short' ? ' (it ends first)' : ''}`;
  }
  if (problem) throw new FrameError('FILE_FORMAT', `${label} is not an Arrow IPC file: ${problem}`, { path: label });
  return true;
}
