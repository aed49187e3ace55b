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
