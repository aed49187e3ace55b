import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCache } from '@finrisk/cache-core';
import { tableFromArrays, tableToIPC } from '@uwdata/flechette';
import * as aq from 'arquero';
import { afterAll, describe, expect, it } from 'vitest';
import { checksum } from './checksum.js';
import { FrameError } from './errors.js';
import { createFrameCache } from './frame-cache.js';
import type { FrameErrorEvent } from './frame-context.js';
import { checkIpcFile, checkIpcStream, rowsHeld } from './ipc-check.js';
import { MessageType, splitIpcMessages } from './ipc-messages.js';
import type { FrameManifest } from './manifest.js';
import { readTableFile } from './table-files.js';

const dir = mkdtempSync(join(tmpdir(), 'frames-ipc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Where, in an IPC stream, the first record batch's field-node count is stored. */
function nodeCountAt(stream: Uint8Array): number {
  const v = view(stream);
  const batch = splitIpcMessages(stream).find((m) => m.type === MessageType.recordBatch)!;
  const meta = batch.start + 8; // continuation marker and metadata length
  const field = (table: number, slot: number) => {
    const vtable = table - v.getInt32(table, true);
    return table + v.getUint16(vtable + slot, true);
  };
  const message = meta + v.getInt32(meta, true);
  const headerAt = field(message, 8);
  const header = headerAt + v.getInt32(headerAt, true);
  const nodesAt = field(header, 6);
  return nodesAt + v.getInt32(nodesAt, true);
}

/** `stream` with its first record batch claiming `count` field nodes (it holds one). */
function withNodeCount(stream: Uint8Array, count: number): Uint8Array {
  const out = Uint8Array.from(stream);
  view(out).setInt32(nodeCountAt(out), count, true);
  return out;
}

/** `stream` with its first record batch, and its column, claiming `rows` rows. */
function withRows(stream: Uint8Array, rows: number): Uint8Array {
  const out = Uint8Array.from(stream);
  const v = view(out);
  const nodes = nodeCountAt(out);
  v.setBigInt64(nodes + 4, BigInt(rows), true); // the first node's length
  const batch = splitIpcMessages(out).find((m) => m.type === MessageType.recordBatch)!;
  const meta = batch.start + 8;
  const field = (table: number, slot: number) => table + v.getUint16(table - v.getInt32(table, true) + slot, true);
  const message = meta + v.getInt32(meta, true);
  const headerAt = field(message, 8);
  v.setBigInt64(field(headerAt + v.getInt32(headerAt, true), 4), BigInt(rows), true); // the batch length
  return out;
}

const sample = () => tableToIPC(tableFromArrays({ x: Int32Array.from([1, 2, 3]) }), { format: 'stream' })!;

describe('checkIpcStream / checkIpcFile', () => {
  it('accept what flechette and this package write', () => {
    expect(checkIpcStream(sample())).toBeNull();
    const table = tableFromArrays({ id: Int32Array.from([1, 2]), name: ['a', 'b'] });
    expect(checkIpcFile(tableToIPC(table, { format: 'file' })!)).toBeNull();
  });

  it('refuse a vector longer than the message that holds it', () => {
    expect(checkIpcStream(withNodeCount(sample(), 5_000_000))).toMatch(/field nodes \(5000000 items\) at byte \d+ lies outside its message/);
    expect(checkIpcStream(withNodeCount(sample(), -1))).toContain('negative length');
    expect(checkIpcStream(sample().subarray(0, 20))).toContain('runs past the end');
  });

  it('refuse a file footer whose block lists do not fit, or point outside the file', () => {
    const file = tableToIPC(tableFromArrays({ x: Int32Array.from([1]) }), { format: 'file' })!;
    const damaged = Uint8Array.from(file);
    // The footer's last vector (record batch blocks): claim a million of them.
    const n = damaged.length;
    const start = n - 10 - view(damaged).getInt32(n - 10, true);
    const footer = start + view(damaged).getInt32(start, true);
    const vtable = footer - view(damaged).getInt32(footer, true);
    const blocksAt = footer + view(damaged).getUint16(vtable + 10, true);
    view(damaged).setInt32(blocksAt + view(damaged).getInt32(blocksAt, true), 1_000_000, true);
    expect(checkIpcFile(damaged)).toContain('the footer blocks (1000000 items)');
  });
});

describe('where Arrow bytes come in', () => {
  it('readTableFile refuses an Arrow file with an impossible vector before decoding it', async () => {
    const path = join(dir, 'bomb.arrows');
    writeFileSync(path, withNodeCount(sample(), 5_000_000));
    const error = await readTableFile(path).then(() => undefined, (e: unknown) => e);
    expect(FrameError.hasReason(error, 'FILE_FORMAT')).toBe(true);
    expect((error as Error).message).toContain('field nodes (5000000 items)');
  });

  it('a stored chunk with an impossible vector and a matching checksum is a corrupt chunk, not 5 million objects', async () => {
    const cache = createCache({ backend: 'memory', envFile: false });
    try {
      const frames = createFrameCache(cache);
      const events: FrameErrorEvent[] = [];
      frames.on('error', (e) => events.push(e));
      expect(await frames.cacheDataFrame('t', aq.table({ x: [1, 2, 3] }))).toBe(true);
      const manifestKey = cache.keys.key('dataframe', 't', 'manifest');
      const manifest = (await cache.get<FrameManifest>(manifestKey))!;
      const chunk = manifest.columns[0]!.chunks[0]!;
      const chunkKey = cache.keys.key('dataframe', 't', 'chunk', manifest.version, String(chunk.index));
      // Before the check, flechette built one object per claimed node: 10 s and 380 MB for 5 million.
      const bomb = withNodeCount((await cache.get<Uint8Array>(chunkKey))!, 2_000_000);
      await cache.set(chunkKey, bomb, { compress: false });
      await cache.set(manifestKey, { ...manifest, columns: [{ ...manifest.columns[0]!, chunks: [{ ...chunk, checksum: checksum(bomb) }] }] });
      expect(await frames.getCachedDataFrame('t')).toBeNull();
      expect(events.at(-1)!.error.reason).toBe('CHUNK_CORRUPT');
      expect(events.at(-1)!.error.message).toContain('field nodes (2000000 items)');
    } finally {
      await cache.close();
    }
  });

  it('refuses a record batch that claims more rows than its bytes can hold, where the rows are read', async () => {
    const stream = withRows(tableToIPC(tableFromArrays({ x: Int32Array.from([1, 2, 3]) }), { format: 'stream' })!, 100_000_000);
    const path = join(dir, 'rows.arrows');
    writeFileSync(path, stream);
    // Before: a table of 100 million rows, 1.6 GB once its values were read.
    const error = await readTableFile(path).then(() => undefined, (e: unknown) => e);
    expect(FrameError.hasReason(error, 'FILE_FORMAT')).toBe(true);
    expect((error as Error).message).toContain(`a column claims 100000000 rows in ${stream.length} bytes`);
    expect(rowsHeld(1, [stream])).toBe(Infinity); // the null type stores nothing per row
  });

  it('a stored chunk that claims 100 million rows, with a manifest that agrees, is a corrupt chunk', async () => {
    const cache = createCache({ backend: 'memory', envFile: false });
    try {
      const frames = createFrameCache(cache);
      const events: FrameErrorEvent[] = [];
      frames.on('error', (e) => events.push(e));
      expect(await frames.cacheDataFrame('t', aq.table({ x: [1, 2, 3] }))).toBe(true);
      const manifestKey = cache.keys.key('dataframe', 't', 'manifest');
      const manifest = (await cache.get<FrameManifest>(manifestKey))!;
      const chunk = manifest.columns[0]!.chunks[0]!;
      const chunkKey = cache.keys.key('dataframe', 't', 'chunk', manifest.version, String(chunk.index));
      const forged = withRows((await cache.get<Uint8Array>(chunkKey))!, 100_000_000);
      await cache.set(chunkKey, forged, { compress: false });
      await cache.set(manifestKey, { ...manifest, rows: 100_000_000, columns: [{ ...manifest.columns[0]!, chunks: [{ ...chunk, rows: 100_000_000, checksum: checksum(forged) }] }] });
      expect(await frames.getCachedDataFrame('t')).toBeNull();
      expect(events.at(-1)!.error.reason).toBe('CHUNK_CORRUPT');
      expect(events.at(-1)!.error.message).toContain('it claims 100000000 rows, more than its');
    } finally {
      await cache.close();
    }
  });
});
