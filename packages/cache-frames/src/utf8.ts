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
 * Strict UTF-8 decoding of a file read piece by piece: the first invalid byte throws FrameError
 * FILE_ENCODING (with its byte offset and line) as soon as its piece arrives, not after the
 * whole file has been read. A leading BOM is dropped.
 */
export class Utf8Collector {
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  readonly #label: string;
  readonly #parts: string[] = [];
  /** Bytes fed so far. */
  #offset = 0;
  /** The end of the previous piece that started a sequence (the decoder holds it). */
  #tail: Uint8Array = new Uint8Array(0);

  /** `label` names the source in errors: a path, or `standard input`. */
  constructor(label: string) {
    this.#label = label;
  }

  /** Decodes the next piece of the file. */
  push(bytes: Uint8Array): void {
    try {
      this.#parts.push(this.#decoder.decode(bytes, { stream: true }));
    } catch (error) {
      this.#fail(bytes, error);
    }
    const keep = incompleteTail(bytes);
    this.#tail = keep === 0 ? new Uint8Array(0) : Uint8Array.from(bytes.subarray(bytes.length - keep));
    this.#offset += bytes.length;
  }

  /** The whole text; throws FILE_ENCODING when the file ends inside a sequence. */
  text(): string {
    try {
      this.#parts.push(this.#decoder.decode());
    } catch (error) {
      this.#fail(new Uint8Array(0), error);
    }
    const text = this.#parts.join('');
    this.#parts.length = 0;
    return text;
  }

  #fail(bytes: Uint8Array, cause: unknown): never {
    const start = this.#offset - this.#tail.length;
    const window = new Uint8Array(this.#tail.length + bytes.length);
    window.set(this.#tail);
    window.set(bytes, this.#tail.length);
    let at = firstInvalidUtf8(window);
    if (at < 0) at = this.#tail.length > 0 ? 0 : window.length; // cut short at the very end
    let line = 1;
    for (const part of this.#parts) for (let i = part.indexOf('\n'); i >= 0; i = part.indexOf('\n', i + 1)) line++;
    for (let i = 0; i < at; i++) if (window[i] === 0x0a) line++;
    const offset = start + at;
    const shown = at < window.length ? `byte 0x${window[at]!.toString(16).padStart(2, '0')}` : 'the end of the text (a character is cut short)';
    throw new FrameError(
      'FILE_ENCODING',
      `${this.#label} is not valid UTF-8: ${shown} at offset ${offset} (line ${line}); save the file as UTF-8`,
      { path: this.#label, byteOffset: offset, line, cause },
    );
  }
}
