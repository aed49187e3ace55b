import { FinRiskCacheError } from '../errors.js';
import { MAX_TIMEOUT_MS } from './deadline.js';
import { parsePythonJson, pythonJsonDumps } from '../python-json.js';
import { applyHashWrite, checkFieldNames, startingFields, type HashReadResult, mergeJsonObjects, readHeldFields, wrongType, type HashFieldWrite, type HashStore, type HashWriteOptions, type HeldField } from './hash-store.js';
import type { CacheStore, StoreEntry, StoreInfo, StoreSetOptions } from './store.js';

interface MemoryEntry {
  /** Empty for a hash. */
  value: Uint8Array;
  /** The fields, when the key holds a hash. */
  hash?: Map<string, HeldField>;
  /** Epoch ms, or Infinity for no expiry. */
  expiresAt: number;
}

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** How often expired entries are swept, in ms, 1 to 2147483647 (what a Node timer holds; E_INVALID_CONFIG otherwise). @default 60000 */
  sweepIntervalMs?: number;
}

/**
 * An in-process store with real TTL expiry, for tests and single-process tools. Values are
 * copied in and out, so a caller mutating a buffer cannot change what is cached.
 */
export class MemoryStore implements CacheStore, HashStore {
  readonly backend = 'memory' as const;
  readonly location = 'memory (this process)';
  #entries = new Map<string, MemoryEntry>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #hits = 0;
  #misses = 0;
  #commands = 0;
  #expired = 0;
  readonly #sweepIntervalMs: number;

  constructor(options: MemoryStoreOptions = {}) {
    const sweep = options.sweepIntervalMs ?? 60_000;
    if (typeof sweep !== 'number' || !(sweep >= 1 && sweep <= MAX_TIMEOUT_MS)) {
      throw new FinRiskCacheError('E_INVALID_CONFIG', `sweepIntervalMs must be a number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (what a Node timer holds), got ${String(sweep)}`);
    }
    this.#sweepIntervalMs = sweep;
  }

  async connect(): Promise<void> {
    this.#assertOpen();
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#sweep(), this.#sweepIntervalMs);
    this.#timer.unref();
  }

  #assertOpen(): void {
    if (this.#closed) throw new FinRiskCacheError('E_CLOSED', 'the memory store was closed');
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        this.#entries.delete(key);
        this.#expired++;
      }
    }
  }

  #live(key: string): MemoryEntry | undefined {
    this.#assertOpen();
    this.#commands++;
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      this.#expired++;
      return undefined;
    }
    return entry;
  }

  #read(key: string): Uint8Array | null {
    const entry = this.#live(key);
    if (!entry) {
      this.#misses++;
      return null;
    }
    if (entry.hash) throw wrongType(key);
    this.#hits++;
    return entry.value.slice();
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.#read(key);
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    return keys.map((k) => this.#read(k));
  }

  async getAndTouch(key: string, ttlMs: number): Promise<Uint8Array | null> {
    const value = this.#read(key);
    const entry = this.#entries.get(key);
    if (entry) entry.expiresAt = Date.now() + ttlMs;
    return value;
  }

  async set(key: string, value: Uint8Array, options: StoreSetOptions = {}): Promise<boolean> {
    if (options.ifAbsent && this.#live(key)) return false;
    this.#assertOpen();
    this.#commands++;
    this.#entries.set(key, { value: value.slice(), expiresAt: expiry(options.ttlMs) });
    return true;
  }

  async setMany(entries: readonly StoreEntry[]): Promise<void> {
    for (const e of entries) await this.set(e.key, e.value, { ttlMs: e.ttlMs });
  }

  async exists(key: string): Promise<boolean> {
    return this.#live(key) !== undefined;
  }

  async delete(keys: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) {
      if (this.#live(key)) {
        this.#entries.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  async deleteIfEquals(key: string, value: Uint8Array): Promise<boolean> {
    const entry = this.#live(key);
    if (!entry || Buffer.compare(entry.value, value) !== 0) return false;
    this.#entries.delete(key);
    return true;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.#live(key);
    if (!entry) return false;
    entry.expiresAt = Date.now() + ttlMs;
    return true;
  }

  async ttl(key: string): Promise<number> {
    const entry = this.#live(key);
    if (!entry) return -2;
    return entry.expiresAt === Infinity ? -1 : Math.max(0, entry.expiresAt - Date.now());
  }

  async incr(key: string): Promise<number> {
    const entry = this.#live(key);
    const current = entry ? Number(Buffer.from(entry.value).toString('utf8')) : 0;
    if (!Number.isSafeInteger(current)) {
      throw new FinRiskCacheError('E_REDIS_COMMAND', `value at ${key} is not an integer`);
    }
    const next = current + 1;
    this.#entries.set(key, { value: Buffer.from(String(next)), expiresAt: entry?.expiresAt ?? Infinity });
    return next;
  }

  async *scan(prefix: string, batchSize = 1000): AsyncIterable<string[]> {
    this.#assertOpen();
    let batch: string[] = [];
    const now = Date.now();
    for (const [key, entry] of [...this.#entries]) {
      if (!key.startsWith(prefix) || entry.expiresAt <= now) continue;
      batch.push(key);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    for await (const keys of this.scan(prefix)) deleted += await this.delete(keys);
    return deleted;
  }

  // Hashes: each call runs to its end without yielding, so it is atomic within the process.

  async hasFieldExpiry(): Promise<boolean> {
    return true;
  }

  async hashWrite(key: string, fields: readonly HashFieldWrite[], options: HashWriteOptions = {}): Promise<boolean> {
    checkFieldNames(fields.map((f) => f.field));
    const entry = this.#live(key);
    const now = Date.now();
    const start = startingFields(entry?.hash ?? null, entry && !entry.hash ? entry.value : null, options, now);
    if (start === undefined) return false;
    if (fields.length === 0 && !options.replace && start === (entry?.hash ?? null)) return true;
    const next = applyHashWrite(start, entry ? entry.expiresAt : null, fields, options, now);
    if (next.fields.size === 0) this.#entries.delete(key);
    else this.#entries.set(key, { value: new Uint8Array(0), hash: next.fields, expiresAt: next.expiresAt });
    return true;
  }

  async hashRead(keys: readonly string[], fields?: readonly string[]): Promise<HashReadResult[]> {
    if (fields) checkFieldNames(fields);
    const now = Date.now();
    return keys.map((key) => {
      const entry = this.#live(key);
      if (entry && !entry.hash) return entry.value.slice();
      const out = readHeldFields(entry?.hash ?? null, fields, now);
      if (out.size > 0) this.#hits++;
      else this.#misses++;
      return out;
    });
  }

  async hashDelete(key: string, fields: readonly string[]): Promise<number> {
    checkFieldNames(fields);
    const entry = this.#live(key);
    if (!entry) return 0;
    if (!entry.hash) throw wrongType(key);
    const now = Date.now();
    let deleted = 0;
    for (const field of fields) {
      const held = entry.hash.get(field);
      if (held && held.expiresAt > now) deleted++;
      entry.hash.delete(field);
    }
    if (entry.hash.size === 0) this.#entries.delete(key);
    return deleted;
  }

  async jsonMerge(key: string, patch: Uint8Array, options: { ttlMs?: number | undefined } = {}): Promise<void> {
    const entry = this.#live(key);
    if (entry?.hash) throw wrongType(key);
    const value = mergeJsonObjects(key, entry?.value ?? null, patch, parsePythonJson, pythonJsonDumps);
    const wanted = options.ttlMs === undefined ? undefined : Date.now() + options.ttlMs;
    const expiresAt = !entry ? (wanted ?? Infinity) : wanted === undefined || entry.expiresAt === Infinity ? entry.expiresAt : Math.max(entry.expiresAt, wanted);
    this.#entries.set(key, { value, expiresAt });
  }

  async ping(): Promise<number> {
    this.#assertOpen();
    return 0;
  }

  async info(): Promise<StoreInfo> {
    this.#assertOpen();
    this.#sweep();
    let bytes = 0;
    for (const [key, entry] of this.#entries) bytes += key.length * 2 + entry.value.byteLength;
    return {
      version: `node ${process.versions.node}`,
      connectedClients: 1,
      usedMemoryBytes: bytes,
      totalCommandsProcessed: this.#commands,
      keyspaceHits: this.#hits,
      keyspaceMisses: this.#misses,
      maxMemoryBytes: 0,
      maxMemoryPolicy: 'noeviction',
      evictedKeys: 0,
      expiredKeys: this.#expired,
      keys: this.#entries.size,
    };
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#closed = true;
    this.#entries.clear();
  }
}

function expiry(ttlMs: number | undefined): number {
  return ttlMs === undefined ? Infinity : Date.now() + ttlMs;
}
