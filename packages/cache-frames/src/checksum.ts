import * as zlib from 'node:zlib';

let table: Uint32Array | undefined;

// zlib.crc32 arrived in Node 20.15; older 20.x use this table-driven version (same result, slower).
function crc32Js(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32 ?? crc32Js;

/** The checksum stored in a manifest for each chunk: `crc32:` and 8 hex digits, of the bytes as stored. */
export function checksum(bytes: Uint8Array): string {
  return `crc32:${crc32(bytes).toString(16).padStart(8, '0')}`;
}
