import type { DataFrameInfo, FrameCache } from '@finrisk/cache-frames';
import { valueText } from './display-value.js';

/** One cached data frame in the dashboard's list (what `list-df` prints). */
export interface FrameListItem {
  name: string;
  rows: number;
  columns: number;
  bytes: number;
  /** Seconds left; -1 when it never expires. */
  ttlSeconds: number;
  writtenAt: string;
}

/** A frame's schema and first rows (what `info-df` and `get-df` print). */
export interface FramePreview {
  name: string;
  rows: number;
  bytes: number;
  chunks: number;
  compression: string;
  writtenAt: string;
  expiresAt: string | null;
  /** Columns of the table, all of them. */
  totalColumns: number;
  /** The first {@link PREVIEW_MAX_COLUMNS} columns. */
  columns: { name: string; type: string; nullCount: number; bytes: number }[];
  /** The first {@link PREVIEW_ROWS} rows, each cell as text, in column order (of the columns above). */
  preview: string[][];
}

/** Rows in a preview. */
export const PREVIEW_ROWS = 50;
/**
 * Largest frame previewed, in bytes of Arrow data once inflated (and as stored). cache-frames
 * reads no row range, so a preview reads the whole table: its reader has this as its
 * `maxTableBytes`, and refuses a larger table from its manifest, before fetching a chunk (a
 * forged manifest that says less is still inflated no further than this).
 */
export const PREVIEW_MAX_BYTES = 32 * 1024 * 1024;
/** Most columns in a preview (schema and rows). */
export const PREVIEW_MAX_COLUMNS = 100;
/** Most frames listed. */
export const MAX_LISTED_FRAMES = 1000;
/** Longest cell text, in characters. */
const CELL_TEXT_LENGTH = 200;

const ttlOf = (expiresAt: Date | null, now: number) => (expiresAt ? Math.max(0, Math.ceil((expiresAt.getTime() - now) / 1000)) : -1);

/** Every cached frame (up to {@link MAX_LISTED_FRAMES}) with its shape, size and time to live, as `list-df` reads them. */
export async function listFrames(frames: FrameCache): Promise<{ frames: FrameListItem[]; truncated: boolean }> {
  const names = await frames.listDataFrames();
  const infos: DataFrameInfo[] = [];
  for (const name of names.slice(0, MAX_LISTED_FRAMES)) {
    const info = await frames.getDataFrameInfo(name);
    if (info) infos.push(info);
  }
  const now = Date.now();
  return {
    frames: infos.map((i) => ({
      name: i.name, rows: i.rows, columns: i.columns.length, bytes: i.bytes, ttlSeconds: ttlOf(i.expiresAt, now), writtenAt: i.writtenAt.toISOString(),
    })),
    truncated: names.length > MAX_LISTED_FRAMES,
  };
}

/** The outcome of {@link previewFrame}: a preview, not cached, or too large to preview (with the stored size and the limit). */
export type FramePreviewResult =
  | { found: true; frame: FramePreview }
  | { found: false }
  | { found: true; tooLarge: true; bytes: number; limitBytes: number };

/**
 * A frame's schema (from its manifest, as `info-df`) and its first rows (as `get-df`), read with
 * `reader`, a frame cache whose `maxTableBytes` is {@link PREVIEW_MAX_BYTES}: a table that is
 * larger once inflated is refused from its manifest (TABLE_TOO_LARGE) and answered as too large.
 */
export async function previewFrame(frames: FrameCache, reader: FrameCache, name: string): Promise<FramePreviewResult> {
  const info = await frames.getDataFrameInfo(name);
  if (!info) return { found: false };
  const tooLarge = { found: true, tooLarge: true, bytes: info.bytes, limitBytes: PREVIEW_MAX_BYTES } as const;
  if (info.bytes > PREVIEW_MAX_BYTES) return tooLarge;
  let refused = false;
  const stop = reader.on('error', (event) => {
    if (event.table === name && event.error.reason === 'TABLE_TOO_LARGE') refused = true;
  });
  const shown = info.columns.slice(0, PREVIEW_MAX_COLUMNS);
  let table: Awaited<ReturnType<FrameCache['getCachedDataFrame']>>;
  try {
    table = await reader.getCachedDataFrame(name, info.columns.length > shown.length ? { columns: shown.map((c) => c.name) } : {});
  } finally {
    stop();
  }
  if (!table) return refused ? tooLarge : { found: false };
  const names = table.columnNames();
  const rows = table.objects({ limit: PREVIEW_ROWS }) as Record<string, unknown>[];
  return {
    found: true,
    frame: {
      name,
      rows: table.numRows(),
      bytes: info.bytes,
      chunks: info.chunks,
      compression: String(info.compression),
      writtenAt: info.writtenAt.toISOString(),
      expiresAt: info.expiresAt?.toISOString() ?? null,
      totalColumns: info.columns.length,
      columns: shown.map((c) => ({ name: c.name, type: c.type, nullCount: c.nullCount, bytes: c.bytes })),
      preview: rows.map((row) => names.map((n) => valueText(row[n], CELL_TEXT_LENGTH))),
    },
  };
}
