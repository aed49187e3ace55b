/**
 * Checks the flatbuffer metadata of Arrow IPC bytes before flechette decodes them. flechette
 * trusts the lengths it reads: a vector length of 5,000,000 in a 136-byte record batch header
 * made it build 5 million objects (10 s and 380 MB from a 4 KB chunk; 2^31 would end the
 * process), and a file footer's block lists are compared pairwise. Here every table, vector and
 * string must lie inside its message, and every count must fit the bytes that hold it; anything
 * else is refused before it is decoded.
 */

/** Arrow's Type values of the null type (nothing stored per row) and run-end encoding (a run per many rows). */
const NULL_TYPE = 1;
const RUN_END_ENCODED = 22;
/** Arrow's MessageHeader values. */
const SCHEMA = 1;
const DICTIONARY_BATCH = 2;
const RECORD_BATCH = 3;
/** Arrow's Type value of a union (its type ids are a vector). */
const UNION = 14;
/** Arrow's MetadataVersion value of V4. */
const V4 = 3;
/** Deepest nesting of fields followed (lists of structs of ...); a cycle of offsets stops here too. */
const MAX_DEPTH = 64;
/** Most record batches times dictionary batches in a file footer (flechette relates each pair). */
const MAX_BLOCK_PAIRS = 10_000_000;

class Invalid extends Error {}

/** The bytes `[start, end)` of a buffer (one message's metadata, a footer), read with bounds checks. */
class Region {
  readonly #view: DataView;
  readonly #start: number;
  readonly #end: number;

  constructor(bytes: Uint8Array, start: number, end: number) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#start = start;
    this.#end = end;
  }

  #need(at: number, size: number, what: string): void {
    if (!Number.isInteger(at) || at < this.#start || at + size > this.#end) throw new Invalid(`${what} at byte ${at} lies outside its message`);
  }

  int32(at: number, what: string): number {
    this.#need(at, 4, what);
    return this.#view.getInt32(at, true);
  }

  int64(at: number, what: string): number {
    this.#need(at, 8, what);
    return Number(this.#view.getBigInt64(at, true));
  }

  uint16(at: number, what: string): number {
    this.#need(at, 2, what);
    return this.#view.getUint16(at, true);
  }

  uint8(at: number, what: string): number {
    this.#need(at, 1, what);
    return this.#view.getUint8(at);
  }

  /** The table whose offset is stored at `at`: where each of its fields is (0 when absent). */
  table(at: number, what: string): (slot: number) => number {
    const pos = at + this.int32(at, what);
    const vtable = pos - this.int32(pos, what);
    const size = this.uint16(vtable, what);
    if (size < 4 || size % 2 !== 0) throw new Invalid(`${what} has a malformed vtable`);
    this.#need(vtable, size, what);
    return (slot) => {
      if (slot >= size) return 0;
      const offset = this.uint16(vtable + slot, what);
      return offset === 0 ? 0 : pos + offset;
    };
  }

  /** The length of the vector whose offset is stored at `at`, checked to fit `stride` bytes each; and where its items start. */
  vector(at: number, stride: number, what: string): { length: number; items: number } {
    const base = at + this.int32(at, what);
    const length = this.int32(base, what);
    if (length < 0) throw new Invalid(`${what} has a negative length`);
    this.#need(base + 4, length * stride, `${what} (${length} items)`);
    return { length, items: base + 4 };
  }

  /** Checks the string whose offset is stored at `at`. */
  string(at: number, what: string): void {
    this.vector(at, 1, what);
  }
}

function checkKeyValues(r: Region, at: number, what: string): void {
  const { length, items } = r.vector(at, 4, what);
  for (let i = 0; i < length; i++) {
    const get = r.table(items + i * 4, what);
    if (get(4)) r.string(get(4), `${what} key`);
    if (get(6)) r.string(get(6), `${what} value`);
  }
}

function checkField(r: Region, at: number, depth: number): void {
  if (depth > MAX_DEPTH) throw new Invalid(`fields nest deeper than ${MAX_DEPTH}`);
  const get = r.table(at, 'a field');
  if (get(4)) r.string(get(4), 'a field name');
  const typeId = get(8) ? r.uint8(get(8), 'a field type') : 0;
  if (get(10)) {
    const type = r.table(get(10), 'a field type');
    if (typeId === UNION && type(6)) r.vector(type(6), 4, 'union type ids');
  }
  if (get(12)) {
    const dictionary = r.table(get(12), 'a dictionary encoding');
    if (dictionary(6)) r.table(dictionary(6), 'a dictionary index type');
  }
  if (get(14)) {
    const { length, items } = r.vector(get(14), 4, 'field children');
    for (let i = 0; i < length; i++) checkField(r, items + i * 4, depth + 1);
  }
  if (get(16)) checkKeyValues(r, get(16), 'field metadata');
}

function checkSchema(r: Region, get: (slot: number) => number): void {
  if (get(6)) {
    const { length, items } = r.vector(get(6), 4, 'schema fields');
    for (let i = 0; i < length; i++) checkField(r, items + i * 4, 0);
  }
  if (get(8)) checkKeyValues(r, get(8), 'schema metadata');
  if (get(10)) r.vector(get(10), 8, 'schema features');
}

function checkRecordBatch(r: Region, get: (slot: number) => number, version: number): void {
  if (get(6)) r.vector(get(6), 16, 'field nodes');
  // Buffers took 24 bytes each before metadata version 4 (a page id), 16 since.
  if (get(8)) r.vector(get(8), version < V4 ? 24 : 16, 'buffers');
  if (get(10)) r.table(get(10), 'body compression');
  if (get(12)) r.vector(get(12), 8, 'variadic buffer counts');
}

/** Checks the metadata of one message, `[start, start + length)`; returns its body length. Throws Invalid. */
function checkMessage(bytes: Uint8Array, start: number, length: number): number {
  const r = new Region(bytes, start, start + length);
  const message = r.table(start, 'the message');
  const version = message(4) ? r.uint16(message(4), 'the metadata version') : 0;
  const type = message(6) ? r.uint8(message(6), 'the message type') : 0;
  const body = message(10) ? r.int64(message(10), 'the body length') : 0;
  if (body < 0) throw new Invalid('the message has a negative body length');
  if (!message(8)) return body;
  const header = r.table(message(8), 'the message header');
  if (type === SCHEMA) checkSchema(r, header);
  else if (type === RECORD_BATCH) checkRecordBatch(r, header, version);
  else if (type === DICTIONARY_BATCH) {
    if (header(6)) checkRecordBatch(r, r.table(header(6), 'the dictionary batch'), version);
  } else throw new Invalid(`message type ${type} is not one Arrow defines`);
  return body;
}

/** The metadata length and where it starts, for the message at `offset` (null at the end-of-stream marker). */
function messageAt(bytes: Uint8Array, offset: number): { meta: number; length: number } | null {
  if (offset + 4 > bytes.length) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let length = view.getInt32(offset, true);
  let meta = offset + 4;
  if (length === -1) {
    if (meta + 4 > bytes.length) return null;
    length = view.getInt32(meta, true);
    meta += 4;
  }
  if (length === 0) return null;
  if (length < 0 || meta + length > bytes.length) throw new Invalid(`the message at byte ${offset} runs past the end`);
  return { meta, length };
}

/**
 * Why the Arrow IPC stream in `bytes` must not be decoded, or null when every message's metadata
 * is sound. Bodies are left to the decoder, which views them without copying.
 */
export function checkIpcStream(bytes: Uint8Array): string | null {
  try {
    let offset = 0;
    for (;;) {
      const found = messageAt(bytes, offset);
      if (!found) return null;
      const body = checkMessage(bytes, found.meta, found.length);
      if (found.meta + found.length + body > bytes.length) throw new Invalid(`the message at byte ${offset} has a body past the end`);
      offset = found.meta + found.length + body;
    }
  } catch (error) {
    if (error instanceof Invalid) return error.message;
    throw error;
  }
}

/**
 * Why the Arrow IPC file in `bytes` (magic `ARROW1` at both ends) must not be decoded, or null:
 * its footer (schema and block lists) and every message a block points to are checked.
 */
export function checkIpcFile(bytes: Uint8Array): string | null {
  try {
    const n = bytes.length;
    if (n < 18) throw new Invalid('it is too short to hold a footer');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const footerLength = view.getInt32(n - 10, true);
    const start = n - 10 - footerLength;
    if (footerLength < 8 || start < 8) throw new Invalid('its footer length is out of range');
    const r = new Region(bytes, start, n - 10);
    const footer = r.table(start, 'the footer');
    if (footer(6)) checkSchema(r, r.table(footer(6), 'the footer schema'));
    const blocks = (slot: number) => {
      if (!footer(slot)) return [];
      const { length, items } = r.vector(footer(slot), 24, 'the footer blocks');
      return Array.from({ length }, (_, i) => Number(view.getBigInt64(items + i * 24, true)));
    };
    const dictionaries = blocks(8);
    const records = blocks(10);
    if (dictionaries.length * records.length > MAX_BLOCK_PAIRS) throw new Invalid('its footer lists too many blocks');
    for (const offset of [...dictionaries, ...records]) {
      if (!Number.isSafeInteger(offset) || offset < 8 || offset >= start) throw new Invalid(`a footer block points at byte ${offset}, outside the file`);
      const found = messageAt(bytes, offset);
      if (!found) throw new Invalid(`a footer block at byte ${offset} holds no message`);
      checkMessage(bytes, found.meta, found.length);
    }
    return null;
  } catch (error) {
    if (error instanceof Invalid) return error.message;
    throw error;
  }
}

/**
 * Most rows Arrow data of a type can hold in `parts`: a bit per row at least (booleans, validity),
 * except the null type, which stores nothing, and run-end encoding, which stores runs. A record batch's length is only a number: one that
 * claims 100 million rows in a few bytes decodes at once and takes gigabytes when its values are
 * read (arquero's arrays, CSV export).
 */
export function rowsHeld(typeId: number, parts: readonly Uint8Array[]): number {
  return typeId === NULL_TYPE || typeId === RUN_END_ENCODED ? Infinity : 8 * parts.reduce((n, p) => n + p.byteLength, 0);
}

