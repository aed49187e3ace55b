import { createCache, type Cache } from '@finrisk/cache-core';
import * as aq from 'arquero';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksum } from './checksum.js';
import { createFrameCache, type FrameCache } from './frame-cache.js';
import type { FrameErrorEvent } from './frame-context.js';
import type { FrameManifest } from './manifest.js';

// Whoever can write to Redis can store any manifest and any chunk bytes, with checksums that
// match. Mutated manifests and chunks, from a seeded generator (a failure names its seed), go to
// every read path: each must answer a miss or a table, with an error event for what it refused,
// and never throw into the caller.

/** xorshift32: the same cases on every run. */
function random(seed: number) {
  let x = seed || 1;
  const next = () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]! };
}

const WEIRD: readonly unknown[] = [
  -1, 0, 1, 2.5, 1e300, -1e300, Number.NaN, Infinity, -Infinity, 2 ** 53, '3', '', 'x'.repeat(300), null, true, [], {}, [1, 2], { index: 0 },
  '\u0001', 'a:b', '__proto__',
];

/** `value` with one field somewhere inside replaced by something odd, or removed. */
function mutate(value: unknown, r: ReturnType<typeof random>): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const containers: Record<string, unknown>[] = [];
  const walk = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    containers.push(v as Record<string, unknown>);
    for (const child of Object.values(v)) walk(child);
  };
  walk(copy);
  const target = r.pick(containers);
  const keys = Object.keys(target);
  if (keys.length === 0) return copy;
  const key = r.pick(keys);
  if (r.next() < 0.15) delete target[key];
  else target[key] = r.pick(WEIRD);
  return copy;
}

/** Bytes with a few flipped, cut short or grown. */
function damage(bytes: Uint8Array, r: ReturnType<typeof random>): Uint8Array {
  const kind = r.int(4);
  if (kind === 0) return bytes.subarray(0, r.int(bytes.length));
  if (kind === 1) return Uint8Array.from([...bytes, ...Array.from({ length: 1 + r.int(64) }, () => r.int(256))]);
  const out = Uint8Array.from(bytes);
  for (let i = 0, n = 1 + r.int(kind === 2 ? 3 : 40); i < n; i++) out[r.int(out.length)] = r.int(256);
  return out;
}

let cache: Cache;
let frames: FrameCache;
const events: FrameErrorEvent[] = [];
let manifest: FrameManifest;
const chunks = new Map<number, Uint8Array>();

beforeAll(async () => {
  cache = createCache({ backend: 'memory', envFile: false });
  frames = createFrameCache(cache, { chunkBytes: 1024 });
  frames.on('error', (e) => events.push(e));
  const table = aq.table({
    id: Array.from({ length: 3000 }, (_, i) => i),
    name: Array.from({ length: 3000 }, (_, i) => `n${i % 17}`),
    score: Array.from({ length: 3000 }, (_, i) => (i % 5 === 0 ? null : i / 3)),
    day: Array.from({ length: 3000 }, (_, i) => new Date(Date.UTC(2024, 0, 1 + (i % 30)))),
  });
  expect(await frames.cacheDataFrame('t', table)).toBe(true);
  manifest = (await cache.get<FrameManifest>(cache.keys.key('dataframe', 't', 'manifest')))!;
  for (const column of manifest.columns) {
    for (const chunk of column.chunks) {
      chunks.set(chunk.index, (await cache.get<Uint8Array>(cache.keys.key('dataframe', 't', 'chunk', manifest.version, String(chunk.index))))!);
    }
  }
  expect(chunks.size).toBeGreaterThan(4);
});

afterAll(async () => {
  await cache?.close();
});

/** Every read path on table `t`: none may throw; a read is a miss or a table. */
async function readAll(seed: number): Promise<void> {
  const info = await frames.getDataFrameInfo('t');
  const table = await frames.getCachedDataFrame('t');
  if (table !== null) expect(table.numRows(), `seed ${seed}`).toBe(info?.rows ?? table.numRows());
  if (info) {
    // What info-df prints must be figures a writer could have written.
    expect(Number.isSafeInteger(info.rows) && info.rows >= 0, `seed ${seed}`).toBe(true);
    expect(Number.isSafeInteger(info.bytes) && info.bytes >= 0, `seed ${seed}`).toBe(true);
    expect(Number.isNaN(info.writtenAt.getTime()), `seed ${seed}`).toBe(false);
    if (info.columns[0]) await frames.getCachedDataFrame('t', { columns: [info.columns[0].name] });
  }
  await frames.listDataFrames();
}

const manifestKey = () => cache.keys.key('dataframe', 't', 'manifest');
const chunkKeyOf = (index: number) => cache.keys.key('dataframe', 't', 'chunk', manifest.version, String(index));

describe('fuzzed stored tables', () => {
  it('mutated manifests: a miss with an event, or a table; never an exception', { timeout: 120_000 }, async () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = random(seed);
      let forged: unknown = manifest;
      for (let n = 1 + r.int(3); n > 0; n--) forged = mutate(forged, r);
      await cache.set(manifestKey(), forged);
      await readAll(seed);
    }
  });

  it('damaged chunks whose checksums match: a miss with a CHUNK_CORRUPT event, or a table; never an exception', { timeout: 120_000 }, async () => {
    await cache.set(manifestKey(), manifest);
    for (let seed = 1; seed <= 400; seed++) {
      const r = random(seed);
      const target = r.pick(manifest.columns.flatMap((c) => c.chunks));
      const bytes = damage(chunks.get(target.index)!, r);
      const before = events.length;
      // The manifest agrees with the damaged bytes: only decoding can tell.
      const forged = structuredClone(manifest);
      for (const column of forged.columns) {
        for (const chunk of column.chunks) {
          if (chunk.index !== target.index) continue;
          column.bytes += bytes.byteLength - chunk.bytes;
          forged.bytes += bytes.byteLength - chunk.bytes;
          chunk.bytes = bytes.byteLength;
          chunk.rawBytes = bytes.byteLength;
          chunk.checksum = checksum(bytes);
        }
      }
      await cache.set(chunkKeyOf(target.index), bytes, { compress: false });
      await cache.set(manifestKey(), forged);
      const table = await frames.getCachedDataFrame('t');
      if (table === null) expect(events.slice(before).map((e) => e.error.reason), `seed ${seed}`).toContain('CHUNK_CORRUPT');
      else expect(table.numRows(), `seed ${seed}`).toBe(manifest.rows);
      await readAll(seed);
      await cache.set(chunkKeyOf(target.index), chunks.get(target.index)!, { compress: false });
    }
  });
});
