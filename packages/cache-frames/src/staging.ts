/**
 * What a write leaves behind if its process dies, and how the next one finds it.
 *
 * A write stores its chunks under a fresh version before its manifest names them. Until then
 * nobody reads them, so a writer killed mid-transfer (SIGKILL, a crash, a pod evicted) must not
 * leave them for ever: each chunk is written with the staging TTL (`stagingSeconds`), whatever
 * the table's own TTL (none included), renewed every quarter of it while the write goes on, and
 * set to the table's TTL only once the manifest that names it is committed.
 *
 * So that the next write of the same name (and `deleteDataFrame`) need not wait for that TTL,
 * each write first lists its version in a small per-name record, `{name}:writes`, itself with the
 * staging TTL. The next write reads it and removes the chunks of every listed version whose writer
 * is gone. Whether a writer is gone is read from Redis's clock, never from clocks of two machines:
 * a live writer renews its chunks every quarter of its staging TTL, so a first chunk whose TTL
 * fell below half of it was not renewed for a quarter of it and more, and a first chunk with no
 * TTL belongs to a committed table (`ttl: null`); either is removed unless the manifest names it.
 * The record is read, changed and written back without a lock: two writers of one name at the
 * same moment may drop each other's entry, which only leaves those chunks to their TTL.
 */
import type { Cache, CacheKey } from '@finrisk/cache-core';
import { chunkKey, FRAME_KIND, manifestKey, type FrameContext } from './frame-context.js';
import { timerMs } from './frame-options.js';
import { ownFields, VERSION_RE } from './manifest.js';

/** Entries a record keeps at most (the newest): each is a write of this name in progress, or one that died. */
export const MAX_RECORDED_WRITES = 32;

/** One write listed in a record. */
interface RecordedWrite {
  version: string;
  /** The staging TTL its chunks carry, in ms. */
  stagingMs: number;
  /** When it was listed, in ms since the epoch by its writer's clock: only to forget entries that never stored a chunk. */
  startedAt: number;
}

/** `{prefix}:dataframe:{name}:writes`, never held in L1. */
export function recordKey(cache: Cache, name: string): CacheKey {
  return { ...cache.keys.key(FRAME_KIND, name, 'writes'), local: false };
}

/** The manifest key, read around L1: a commit must see what Redis holds now. */
export function manifestKeyInRedis(cache: Cache, name: string): CacheKey {
  return { ...manifestKey(cache, name), local: false };
}

/**
 * The entries of a record read from Redis. Another process wrote it: anything that is not a list
 * of entries this package writes is dropped, entry by entry, and at most
 * {@link MAX_RECORDED_WRITES} are kept.
 */
export function parseRecord(value: unknown): RecordedWrite[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const r = ownFields(value as Record<string, unknown>);
  if (r.format !== 'finrisk-frame-writes' || r.formatVersion !== 1 || !Array.isArray(r.writes)) return [];
  const out: RecordedWrite[] = [];
  for (const w of r.writes.slice(-MAX_RECORDED_WRITES) as unknown[]) {
    if (typeof w !== 'object' || w === null || Array.isArray(w)) continue;
    const e = ownFields(w as Record<string, unknown>);
    if (typeof e.version !== 'string' || !VERSION_RE.test(e.version)) continue;
    if (typeof e.stagingMs !== 'number' || !Number.isSafeInteger(e.stagingMs) || e.stagingMs < 1000 || e.stagingMs > 86_400_000) continue;
    if (typeof e.startedAt !== 'number' || !Number.isSafeInteger(e.startedAt) || e.startedAt < 0) continue;
    out.push({ version: e.version, stagingMs: e.stagingMs, startedAt: e.startedAt });
  }
  return out;
}

async function readRecord(ctx: FrameContext, name: string): Promise<RecordedWrite[]> {
  const [value] = await ctx.cache.getMany([recordKey(ctx.cache, name)], { throwOnFailure: true });
  return parseRecord(value);
}

/** Writes `entries` back (or deletes the record when there are none), with the longest staging TTL among them. */
async function writeRecord(ctx: FrameContext, name: string, entries: readonly RecordedWrite[]): Promise<boolean> {
  const key = recordKey(ctx.cache, name);
  if (entries.length === 0) return (await ctx.cache.deleteMany([key])).complete;
  const ttlMs = Math.max(...entries.map((e) => e.stagingMs));
  return ctx.cache.set(key, { format: 'finrisk-frame-writes', formatVersion: 1, writes: entries.slice(-MAX_RECORDED_WRITES) }, { ttl: ttlMs / 1000 });
}

/**
 * Removes the chunks of the writes in `entries` whose writer is gone (see the module comment)
 * and returns the entries to keep. Reads the TTL of each one's first chunk, then the manifest
 * (after: a write that committed with no TTL switched its manifest before it took its chunks'
 * TTL away, so a first chunk without TTL and a manifest naming another version means replaced).
 */
async function sweep(ctx: FrameContext, name: string, entries: readonly RecordedWrite[]): Promise<RecordedWrite[]> {
  if (entries.length === 0) return [];
  const { cache } = ctx;
  const ttls = await Promise.all(entries.map((e) => cache.pttl(chunkKey(cache, name, e.version, 0)).catch(() => null)));
  const [manifest] = await cache.getMany([manifestKeyInRedis(cache, name)], { throwOnFailure: true });
  const current = typeof manifest === 'object' && manifest !== null ? (manifest as { version?: unknown }).version : undefined;
  const keep: RecordedWrite[] = [];
  const gone: RecordedWrite[] = [];
  for (const [i, entry] of entries.entries()) {
    const ttl = ttls[i];
    if (entry.version === current) continue; // committed: nothing of it to remove
    if (ttl === null || ttl === undefined) keep.push(entry); // unknown: ask again next time
    else if (ttl === -2) {
      // No first chunk: a writer that has not stored one yet, or one that died before. Forgotten
      // after twice its staging TTL (by the clocks of two machines: at worst it is forgotten
      // early, and its chunks, if any come, expire by themselves).
      if (Date.now() - entry.startedAt < 2 * entry.stagingMs) keep.push(entry);
    } else if (ttl === -1 || ttl < entry.stagingMs / 2) gone.push(entry);
    else keep.push(entry);
  }
  for (const entry of gone) {
    await cache.deleteByPrefix({ kind: FRAME_KIND, prefix: cache.keys.prefixOf(FRAME_KIND, name, 'chunk', entry.version) });
  }
  return keep;
}

/**
 * Lists `version` in the record of `name` before its first chunk is written, after removing the
 * chunks of listed writes whose writer is gone. False when the backend failed (the write fails:
 * its chunks would fail the same way).
 */
export async function registerWrite(ctx: FrameContext, name: string, version: string): Promise<boolean> {
  let entries: RecordedWrite[];
  try {
    entries = await sweep(ctx, name, await readRecord(ctx, name));
  } catch (error) {
    if (ctx.cache.config.strict) throw error;
    return false;
  }
  entries.push({ version, stagingMs: ctx.options.stagingSeconds * 1000, startedAt: Date.now() });
  return writeRecord(ctx, name, entries.slice(-MAX_RECORDED_WRITES));
}

/**
 * Takes `version` off the record of `name` once its chunks are committed or removed. Best effort:
 * an entry left behind names chunks that are gone or committed, and the next write drops it.
 */
export async function unregisterWrite(ctx: FrameContext, name: string, version: string): Promise<void> {
  try {
    const entries = await readRecord(ctx, name);
    if (!entries.some((e) => e.version === version)) return;
    await writeRecord(ctx, name, entries.filter((e) => e.version !== version));
  } catch {
    // The cache reported it; the entry goes with the next write or the record's TTL.
  }
}

/**
 * Sets the TTL of `keys` to `ttlSeconds`, all at once; true when every key still exists. False
 * for a key that is gone and for a backend failure alike (`expire` does not tell them apart),
 * which a write takes as a failure either way. Not `tolerant`, a strict cache's failure is thrown.
 */
export async function renewKeys(cache: Cache, keys: readonly CacheKey[], ttlSeconds: number, options: { tolerant: boolean } = { tolerant: true }): Promise<boolean> {
  const renewed = await Promise.all(keys.map((key) => (options.tolerant ? cache.expire(key, ttlSeconds).catch(() => false) : cache.expire(key, ttlSeconds))));
  return renewed.every(Boolean);
}

/**
 * Renews the staging TTL of a write's chunks and of its record every quarter of it while the
 * write goes on (an unref'd timer: it never holds the process open). A renewal that times out is
 * not a failure: the command still reaches Redis on the same connection, behind the chunks in
 * flight; only the renewal at the end of the transfer, with nothing in flight, checks that every
 * chunk is still there. It stops when stopped.
 */
export class StagingKeepAlive {
  readonly #ctx: FrameContext;
  readonly #name: string;
  readonly #keys: readonly CacheKey[];
  readonly #timer: NodeJS.Timeout;
  #stopped = false;
  /** When the chunks' TTL was last renewed (or the first one written), by performance.now(). */
  renewedAt = performance.now();

  constructor(ctx: FrameContext, name: string, keys: readonly CacheKey[]) {
    this.#ctx = ctx;
    this.#name = name;
    this.#keys = keys;
    this.#timer = setInterval(() => void this.#renew(), timerMs((ctx.options.stagingSeconds * 1000) / 4));
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return;
    const { cache, options } = this.#ctx;
    const started = performance.now();
    const keys = [...this.#keys, recordKey(cache, this.#name)];
    await renewKeys(cache, keys, options.stagingSeconds);
    this.renewedAt = started;
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }
}
