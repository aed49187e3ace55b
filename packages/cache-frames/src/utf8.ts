import { isUtf8 } from 'node:buffer';
import { FrameError } from './errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Byte offset of the first invalid UTF-8 sequence in `bytes`, or -1 when all of it is valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) { i++; continue; }
    let need: number, min: number;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    if (i + need >= n) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Decodes UTF-8 text strictly (a leading BOM is dropped). Throws FrameError FILE_ENCODING naming
 * the byte offset and line of the first invalid byte.
 */
export function decodeUtf8(bytes: Uint8Array, path: string): string {
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return decoder.decode(body);
  } catch (error) {
    const at = Math.max(0, firstInvalidUtf8(body));
    const offset = at + (body === bytes ? 0 : 3);
    let line = 1;
    for (let i = 0; i < at; i++) if (body[i] === 0x0a) line++;
    throw new FrameError(
      'FILE_ENCODING',
      `${path} is not valid UTF-8: byte 0x${(body[at] ?? 0).toString(16).padStart(2, '0')} at offset ${offset} (line ${line}); save the file as UTF-8`,
      { path, byteOffset: offset, line, cause: error },
    );
  }
}

/** Trailing bytes of `bytes` that start a UTF-8 sequence the end cuts short (0 to 3). */
function incompleteTail(bytes: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/**
 * Strict UTF-8 text of a file read piece by piece: each piece is checked as it arrives (Node's
 * `isUtf8`, which builds nothing), so the first invalid byte throws FrameError FILE_ENCODING,
 * with its byte offset and line, without reading the rest; the text is decoded once at the end.
 * Pieces are copied, so the caller may reuse its buffer. A leading BOM is dropped.
 */
export class Utf8Collector {
  readonly #label: string;
  #buffer: Uint8Array;
  #length = 0;
  /** Bytes at the end of what was pushed that start a sequence not complete yet. */
  #pending = 0;

  /** `label` names the source in errors: a path, or `standard input`; `size`, when known, sizes the buffer once. */
  constructor(label: string, size?: number) {
    this.#label = label;
    this.#buffer = new Uint8Array(size ?? 64 * 1024);
  }

  /** Checks and keeps the next piece of the file. */
  push(piece: Uint8Array): void {
    const start = this.#length - this.#pending;
    this.#append(piece);
    // Check from the first byte not known to be valid to the last complete sequence.
    const end = this.#length - incompleteTail(this.#buffer.subarray(start, this.#length));
    if (!isUtf8(this.#buffer.subarray(start, end))) this.#fail(start);
    this.#pending = this.#length - end;
  }

  /** The whole text; throws FILE_ENCODING when the file ends inside a sequence. */
  text(): string {
    if (this.#pending > 0) this.#fail(this.#length - this.#pending, true);
    const bytes = this.#buffer.subarray(0, this.#length);
    this.#buffer = new Uint8Array(0);
    return new TextDecoder('utf-8').decode(bytes); // valid already; the decoder drops a BOM
  }

  #append(piece: Uint8Array): void {
    if (this.#length + piece.length > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + piece.length));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(piece, this.#length);
    this.#length += piece.length;
  }

  /** Throws FILE_ENCODING for the first invalid byte at or after `from` (`atEnd`: a character the end cuts short). */
  #fail(from: number, atEnd = false): never {
    const window = this.#buffer.subarray(from, this.#length);
    let at = firstInvalidUtf8(window);
    if (at < 0) at = 0; // a sequence the end cuts short
    const offset = from + at;
    // Lines are counted in what precedes the byte only: the buffer may be sized for the whole file
    // (1 GiB), and a search past the offset would touch every page of it.
    const before = this.#buffer.subarray(0, offset);
    let line = 1;
    for (let i = before.indexOf(0x0a); i >= 0; i = before.indexOf(0x0a, i + 1)) line++;
    const shown = `byte 0x${this.#buffer[offset]!.toString(16).padStart(2, '0')}${atEnd ? ' (a character the end cuts short)' : ''}`;
    throw new FrameError(
      'FILE_ENCODING',
      `${this.#label} is not valid UTF-8: ${shown} at offset ${offset} (line ${line}); save the file as UTF-8`,
      { path: this.#label, byteOffset: offset, line },
    );
  }
}
