/**
 * The manifest of a cached table: a small record, stored under `{prefix}:dataframe:{name}:manifest`,
 * that names the version whose chunks make up the table. Writers switch it only after every chunk
 * of the new version is stored, so a reader that follows it sees one whole table.
 */

/** Chunk compression: `none`, or `deflate` (Node's zlib, raw deflate, level 1). */
export type FrameCompression = 'none' | 'deflate';

/** One stored chunk: whole Arrow IPC messages of one column. */
export interface ManifestChunk {
  /** Number in the chunk's key. */
  index: number;
  /** Rows of the column in this chunk. */
  rows: number;
  /** Bytes as stored (after compression, without the 6-byte envelope header). */
  bytes: number;
  /**
   * Bytes of Arrow IPC before compression: what the chunk inflates to, exactly. Absent in
   * manifests written before 0.2, whose chunks are bounded by the cache's `maxValueBytes` instead.
   */
  rawBytes?: number;
  /** `crc32:` and 8 hex digits, of the stored bytes. */
  checksum: string;
}

/** One column of a cached table. */
export interface ManifestColumn {
  name: string;
  /** Readable Arrow type, e.g. `int32`, `utf8`, `timestamp[ms, UTC]`, `dictionary<utf8, int32>`. */
  type: string;
  nullCount: number;
  /** int64 values are read back as BigInt. */
  bigint: boolean;
  /** Stored bytes of all its chunks. */
  bytes: number;
  chunks: ManifestChunk[];
}

/** The manifest as stored (JSON in the core envelope). */
export interface FrameManifest {
  format: 'finrisk-frame';
  formatVersion: 1;
  name: string;
  /** Random id of this write; chunk keys contain it. */
  version: string;
  rows: number;
  /** When the write finished, in ms since the epoch. */
  writtenAt: number;
  /** TTL the table was written with, in seconds; null for none. */
  ttlSeconds: number | null;
  compression: FrameCompression;
  /** Stored bytes of all chunks. */
  bytes: number;
  columns: ManifestColumn[];
}

/** Limits a manifest must keep to be read. */
export interface ManifestLimits {
  /** Largest chunk, in bytes before compression: the cache's `maxValueBytes`. */
  maxChunkBytes: number;
  /** Largest table, in bytes before compression: the frame cache's `maxTableBytes`. */
  maxTableBytes: number;
}

/** Largest time a Date can hold, in ms since the epoch (ECMA-262). */
const MAX_DATE_MS = 8.64e15;
/** Versions are `Date.now()` in base 36 and 10 hex digits; anything else did not come from a writer. */
export const VERSION_RE = /^[0-9a-z]{1,64}$/;
const CHECKSUM_RE = /^crc32:[0-9a-f]{8}$/;
/** Type texts are printable ASCII (`dictionary<utf8, int32>` and the like), far shorter than 256 characters. */
const TYPE_RE = /^[\x20-\x7e]{1,256}$/;

/**
 * Caps on what a manifest read from Redis may claim, beyond the byte limits: each column and each
 * chunk costs the reader work (a GET, a decode) before any byte is checked, so a forged manifest
 * of a million 1-byte chunks must not be followed. Far above what a writer produces: a 1 GiB
 * table in chunks of the smallest `chunkBytes` (1 KiB) is 1,048,576 chunks.
 */
export const MANIFEST_LIMITS = Object.freeze({
  /** Columns of one table. */
  columns: 65_536,
  /** Chunks of one table, all columns together. */
  chunks: 1_048_576,
  /** Rows of one table (the longest JS array). */
  rows: 2 ** 32 - 1,
  /** UTF-16 units of a column name. */
  columnNameLength: 65_536,
});

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * The own fields of an object read from Redis, in a null-prototype object: a field it lacks reads
 * as undefined, never as what a polluted `Object.prototype` of this process holds.
 */
export const ownFields = (v: Record<string, unknown>): Record<string, unknown> => Object.assign(Object.create(null) as Record<string, unknown>, v);
/** Lone surrogates cannot be encoded as UTF-8 (Arrow's field names), so no writer stored one. */
const isWellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

/**
 * Checks that `value` is a manifest this package could have written for table `name`, as strictly
 * as a payload: every count a whole number in range and under {@link MANIFEST_LIMITS}, every sum
 * adding up, every chunk index unique, sizes within `limits`, column names that arquero can hold
 * (its columns are an object keyed by name: a column named `__proto__` would replace that object's
 * prototype). Returns a manifest built anew from the checked fields alone (whatever else the
 * stored object holds is left behind), or the first problem found (for the error event); a forged
 * manifest is never printed or followed.
 */
export function checkManifest(value: unknown, name: string, limits: ManifestLimits): { manifest: FrameManifest } | { problem: string; tooLarge?: true } {
  const bad = (problem: string) => ({ problem });
  if (!isRecord(value)) return bad(`it is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}, not a manifest`);
  const m = ownFields(value);
  if (m.format !== 'finrisk-frame' || m.formatVersion !== 1) return bad('its format is not finrisk-frame version 1');
  if (m.name !== name) return bad(`it names table ${JSON.stringify(m.name)}`);
  if (typeof m.version !== 'string' || !VERSION_RE.test(m.version)) return bad('its version is not one a writer makes');
  if (!count(m.rows) || m.rows > MANIFEST_LIMITS.rows) return bad(`rows ${String(m.rows)} is not a whole number of rows up to ${MANIFEST_LIMITS.rows}`);
  if (!count(m.writtenAt) || m.writtenAt > MAX_DATE_MS) return bad(`writtenAt ${String(m.writtenAt)} is not a time`);
  if (m.ttlSeconds !== null && !(typeof m.ttlSeconds === 'number' && m.ttlSeconds > 0 && m.writtenAt + m.ttlSeconds * 1000 <= MAX_DATE_MS)) {
    return bad(`ttlSeconds ${String(m.ttlSeconds)} is not a time to live`);
  }
  if (m.compression !== 'none' && m.compression !== 'deflate') return bad(`compression ${JSON.stringify(m.compression)} is unknown`);
  if (!count(m.bytes)) return bad(`bytes ${String(m.bytes)} is not a size`);
  if (!Array.isArray(m.columns)) return bad('it has no list of columns');
  if (m.columns.length > MANIFEST_LIMITS.columns) return bad(`it has ${m.columns.length} columns, more than ${MANIFEST_LIMITS.columns}`);
  const rows = m.rows;
  const compression = m.compression;
  const names = new Set<string>();
  const indexes = new Set<number>();
  const columns: ManifestColumn[] = [];
  let bytes = 0;
  let raw = 0;
  for (const [c, stored] of m.columns.entries()) {
    const at = `column ${c + 1}`;
    if (!isRecord(stored)) return bad(`${at} is not a column`);
    const column = ownFields(stored);
    const columnName = column.name;
    if (typeof columnName !== 'string' || names.has(columnName)) return bad(`${at} has no name, or the name of another column`);
    if (columnName.length > MANIFEST_LIMITS.columnNameLength || !isWellFormed(columnName) || columnName === '__proto__') {
      return bad(`${at} has a name no table can hold (over ${MANIFEST_LIMITS.columnNameLength} characters, a lone surrogate, or "__proto__")`);
    }
    names.add(columnName);
    if (typeof column.type !== 'string' || !TYPE_RE.test(column.type)) return bad(`${at} has no type`);
    if (!count(column.nullCount) || column.nullCount > rows) return bad(`${at} nullCount ${String(column.nullCount)} is not a count up to rows`);
    if (typeof column.bigint !== 'boolean') return bad(`${at} bigint is not true or false`);
    if (!count(column.bytes)) return bad(`${at} bytes ${String(column.bytes)} is not a size`);
    if (!Array.isArray(column.chunks) || column.chunks.length === 0) return bad(`${at} has no chunks`);
    if (indexes.size + column.chunks.length > MANIFEST_LIMITS.chunks) return bad(`it has more than ${MANIFEST_LIMITS.chunks} chunks`);
    const chunks: ManifestChunk[] = [];
    let columnBytes = 0;
    let columnRows = 0;
    for (const [k, storedChunk] of column.chunks.entries()) {
      const where = `${at} chunk ${k + 1}`;
      if (!isRecord(storedChunk)) return bad(`${where} is not a chunk`);
      const chunk = ownFields(storedChunk);
      if (!count(chunk.index) || indexes.has(chunk.index)) return bad(`${where} has no index, or the index of another chunk`);
      indexes.add(chunk.index);
      if (!count(chunk.rows)) return bad(`${where} rows ${String(chunk.rows)} is not a count`);
      if (!count(chunk.bytes) || chunk.bytes > limits.maxChunkBytes) return bad(`${where} bytes ${String(chunk.bytes)} is not a size up to ${limits.maxChunkBytes}`);
      if (typeof chunk.checksum !== 'string' || !CHECKSUM_RE.test(chunk.checksum)) return bad(`${where} checksum is not crc32:xxxxxxxx`);
      if (chunk.rawBytes !== undefined) {
        if (!count(chunk.rawBytes) || chunk.rawBytes > limits.maxChunkBytes) {
          return bad(`${where} rawBytes ${String(chunk.rawBytes)} is not a size up to ${limits.maxChunkBytes}`);
        }
        if (compression === 'none' && chunk.rawBytes !== chunk.bytes) return bad(`${where} is uncompressed but rawBytes differs from bytes`);
      }
      columnBytes += chunk.bytes;
      columnRows += chunk.rows;
      raw += typeof chunk.rawBytes === 'number' ? chunk.rawBytes : compression === 'none' ? chunk.bytes : 0;
      chunks.push({ index: chunk.index, rows: chunk.rows, bytes: chunk.bytes, ...(chunk.rawBytes === undefined ? {} : { rawBytes: chunk.rawBytes }), checksum: chunk.checksum });
    }
    if (columnBytes !== column.bytes) return bad(`${at} bytes ${column.bytes} is not the sum of its chunks' (${columnBytes})`);
    if (columnRows !== rows) return bad(`${at} chunks hold ${columnRows} rows, the table ${rows}`);
    bytes += columnBytes;
    columns.push({ name: columnName, type: column.type, nullCount: column.nullCount, bigint: column.bigint, bytes: columnBytes, chunks });
  }
  if (bytes !== m.bytes) return bad(`bytes ${m.bytes} is not the sum of its columns' (${bytes})`);
  if (bytes > limits.maxTableBytes || raw > limits.maxTableBytes) {
    return { problem: `it holds ${Math.max(bytes, raw)} bytes, over this reader's maxTableBytes (${limits.maxTableBytes}); raise maxTableBytes to read it`, tooLarge: true };
  }
  return {
    manifest: {
      format: 'finrisk-frame', formatVersion: 1, name, version: m.version, rows, writtenAt: m.writtenAt, ttlSeconds: m.ttlSeconds as number | null,
      compression, bytes, columns,
    },
  };
}
