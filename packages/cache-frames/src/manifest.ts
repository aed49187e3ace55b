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

/** True when `value` has the shape of a manifest this package writes. */
export function isManifest(value: unknown): value is FrameManifest {
  const m = value as FrameManifest;
  return typeof m === 'object' && m !== null && m.format === 'finrisk-frame' && m.formatVersion === 1 &&
    typeof m.version === 'string' && typeof m.rows === 'number' && Array.isArray(m.columns) &&
    (m.compression === 'none' || m.compression === 'deflate') &&
    m.columns.every((c) => typeof c?.name === 'string' && Array.isArray(c.chunks) &&
      c.chunks.every((k) => typeof k?.index === 'number' && typeof k.checksum === 'string' && typeof k.bytes === 'number'));
}
