import { inflateRawSync } from 'node:zlib';
import { Table, tableFromIPC, type Column, type Field } from '@uwdata/flechette';
import { fromArrow, type ColumnTable } from 'arquero';
import { checksum } from './checksum.js';
import { FrameError } from './errors.js';
import { chunkKey, manifestKey, type FrameContext } from './frame-context.js';
import { isManifest, type FrameManifest, type ManifestColumn } from './manifest.js';

/** Options of a read. */
export interface GetCachedDataFrameOptions {
  /** Read only these columns, in this order; the other columns' chunks are not transferred. @default every column */
  columns?: readonly string[];
}

/** The manifest of `name`; null when there is none, or it is not one this package wrote (an error event). */
export async function readManifest(ctx: FrameContext, name: string, operation: string): Promise<FrameManifest | null> {
  const key = manifestKey(ctx.cache, name);
  const value = await ctx.cache.get(key);
  if (value === null) return null;
  if (!isManifest(value)) {
    ctx.emitError({
      error: new FrameError('MANIFEST_CORRUPT', `the manifest of table ${JSON.stringify(name)} at ${key.key} was not written by @finrisk/cache-frames`),
      operation, table: name, key: key.key,
    });
    return null;
  }
  return value;
}

type Fetched = { kind: 'ok'; columns: Column<unknown>[]; fields: Field[]; schema: Table['schema'] } | { kind: 'missing'; key: string } | { kind: 'corrupt'; key: string; reason: string };

async function fetchColumns(ctx: FrameContext, name: string, manifest: FrameManifest, selected: ManifestColumn[]): Promise<Fetched> {
  const { cache, options } = ctx;
  // Round trips of at most maxBytesPerCall, two in flight: big enough to amortize latency,
  // small enough that one reply never runs into the command timeout.
  const plan: { column: number; chunk: number }[][] = [];
  let batch: { column: number; chunk: number }[] = [];
  let size = 0;
  selected.forEach((column, c) => column.chunks.forEach((chunk, k) => {
    if (batch.length > 0 && size + chunk.bytes > options.maxBytesPerCall) {
      plan.push(batch);
      batch = [];
      size = 0;
    }
    batch.push({ column: c, chunk: k });
    size += chunk.bytes;
  }));
  if (batch.length > 0) plan.push(batch);

  const bytes: (Uint8Array | null)[][] = selected.map((c) => c.chunks.map(() => null));
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const part = plan[next++]!;
      const keys = part.map((p) => chunkKey(cache, name, manifest.version, selected[p.column]!.chunks[p.chunk]!.index));
      const values = await cache.getMany<Uint8Array>(keys);
      part.forEach((p, i) => {
        const v = values[i];
        bytes[p.column]![p.chunk] = v instanceof Uint8Array ? v : null;
      });
    }
  };
  await Promise.all([worker(), worker()]);

  const columns: Column<unknown>[] = [];
  const fields: Field[] = [];
  let schema: Table['schema'] | undefined;
  for (let c = 0; c < selected.length; c++) {
    const meta = selected[c]!;
    const parts: Uint8Array[] = [];
    for (let k = 0; k < meta.chunks.length; k++) {
      const chunk = meta.chunks[k]!;
      const key = chunkKey(cache, name, manifest.version, chunk.index).key;
      const stored = bytes[c]![k];
      if (!stored) return { kind: 'missing', key };
      if (checksum(stored) !== chunk.checksum) return { kind: 'corrupt', key, reason: `checksum ${checksum(stored)} does not match the manifest's ${chunk.checksum}` };
      try {
        parts.push(manifest.compression === 'deflate' ? inflateRawSync(stored) : stored);
      } catch (error) {
        return { kind: 'corrupt', key, reason: `does not decompress: ${(error as Error).message}` };
      }
      bytes[c]![k] = null;
    }
    try {
      const decoded = tableFromIPC(parts, { useDate: true, useBigInt: meta.bigint });
      const column = decoded.children[0];
      const field = decoded.schema.fields[0];
      if (!column || !field || column.length !== manifest.rows || field.name !== meta.name) {
        throw new Error(`expected column ${JSON.stringify(meta.name)} of ${manifest.rows} rows, found ${column ? `${column.length} rows of ${JSON.stringify(field?.name)}` : 'none'}`);
      }
      columns.push(column);
      fields.push(field);
      schema ??= decoded.schema;
    } catch (error) {
      return { kind: 'corrupt', key: chunkKey(cache, name, manifest.version, meta.chunks[0]?.index ?? 0).key, reason: `column ${JSON.stringify(meta.name)} does not decode: ${(error as Error).message}` };
    }
  }
  return { kind: 'ok', columns, fields, schema: schema ?? { version: 5, endianness: 0, fields: [], metadata: null } as unknown as Table['schema'] };
}

/**
 * Reads a cached table: the manifest, then the chunks of the selected columns, each checked
 * against its checksum. A chunk that is missing because a newer write replaced the version is
 * retried once with the new manifest; otherwise a missing or corrupt chunk is a miss and an
 * error event, never a partial table.
 */
export async function readFrame(ctx: FrameContext, name: string, options: GetCachedDataFrameOptions = {}): Promise<ColumnTable | null> {
  const operation = 'getCachedDataFrame';
  for (let attempt = 0; attempt < 2; attempt++) {
    const manifest = await readManifest(ctx, name, operation);
    if (!manifest) return null;
    let selected = manifest.columns;
    if (options.columns) {
      selected = options.columns.map((c) => {
        const found = manifest.columns.find((m) => m.name === c);
        if (!found) {
          throw new FrameError('UNKNOWN_COLUMN', `table ${JSON.stringify(name)} has no column ${JSON.stringify(c)}; its columns are ${manifest.columns.map((m) => JSON.stringify(m.name)).join(', ')}`, { column: c });
        }
        return found;
      });
    }
    const result = await fetchColumns(ctx, name, manifest, selected);
    if (result.kind === 'ok') {
      const table = new Table({ ...result.schema, fields: result.fields }, result.columns);
      return fromArrow(table as never) as ColumnTable;
    }
    if (result.kind === 'missing' && attempt === 0) {
      const now = await readManifest(ctx, name, operation);
      if (now && now.version !== manifest.version) continue; // replaced while we read: read the new one
    }
    const error = result.kind === 'missing'
      ? new FrameError('CHUNK_MISSING', `chunk ${result.key} of table ${JSON.stringify(name)} is missing (evicted, or deleted by hand); the table reads as a miss until it is cached again`)
      : new FrameError('CHUNK_CORRUPT', `chunk ${result.key} of table ${JSON.stringify(name)} ${result.reason}; the table reads as a miss until it is cached again`);
    ctx.emitError({ error, operation, table: name, key: result.key });
    return null;
  }
  return null;
}
