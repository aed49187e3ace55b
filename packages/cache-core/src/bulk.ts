import { FinRiskCacheError } from './errors.js';
import type { CacheKey } from './keys.js';
import { operationKind, type KindStatsRegistry } from './kind-stats.js';
import type { OperationPolicy } from './operation-policy.js';
import { MAX_TIMEOUT_MS } from './stores/deadline.js';
import type { CacheStore } from './stores/store.js';
import type { ValuePipeline } from './value-pipeline.js';

/**
 * Keys per store call of a large getMany. Measured on 10,000 keys: one 10,000-key MGET 5.8 ms,
 * ten 1,000-key MGETs written at once 3.8 ms (500-2,000 about the same); decoding each chunk as
 * it arrives overlaps with Redis answering the next.
 */
export const GET_MANY_CHUNK = 1000;

/**
 * Store calls of one getMany or setMany in flight at once. Each call's deadline starts when it is
 * written, so calls written behind many others would wait out their deadline in the queue (a
 * 1,000,000-key batch as 1,000 MGETs at once); a bounded window keeps every call's wait to a few
 * calls' worth, and still overlaps decoding with Redis answering.
 */
export const BULK_WINDOW = 8;

/** Entries per store call of a large setMany: a pipeline of 1,000 SETs. */
export const SET_MANY_CHUNK = 1000;

/** How one getMany reads: its deadline per store call, and whether a failure throws. */
export interface BulkCall {
  timeoutMs: number | undefined;
  throwOnFailure: boolean;
}

/** A caller's per-call deadline: undefined, or a positive number of ms a Node timer can hold. */
export function checkTimeout(timeoutMs: number | undefined): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new FinRiskCacheError(
      'E_INVALID_CONFIG',
      `timeoutMs must be a positive number of milliseconds, at most ${MAX_TIMEOUT_MS} (what a Node timer holds; longer runs out after 1 ms), got ${String(timeoutMs)}`,
    );
  }
  return timeoutMs;
}

/**
 * Runs `task(0..count-1)` with at most `window` running at once, in order of start. Stops starting
 * new tasks once `stop()` says so; resolves, once every started task settled, to how many started.
 */
export async function inWindow(count: number, window: number, task: (index: number) => Promise<void>, stop: () => boolean = () => false): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < count && !stop()) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  return next;
}

/** One entry of a setMany, encoded and keyed, as the store writes it. */
export interface PreparedEntry {
  ref: CacheKey;
  key: string;
  value: Uint8Array;
  ttlMs: number | undefined;
}

/**
 * The bulk window and chunking of getMany and setMany: chunks of 1,000 keys per store call, a
 * few calls in flight at once, each through the operation policy and counted on its own.
 */
export class Bulk {
  readonly #policy: OperationPolicy;
  readonly #values: ValuePipeline;
  readonly #stats: KindStatsRegistry;

  constructor(policy: OperationPolicy, values: ValuePipeline, stats: KindStatsRegistry) {
    this.#policy = policy;
    this.#values = values;
    this.#stats = stats;
  }

  /** Reads and decodes `refs` (no L1): values in their order, null for misses and failed chunks. */
  async getMany<T>(refs: CacheKey[], call: BulkCall): Promise<(T | null)[]> {
    const out = new Array<T | null>(refs.length);
    if (refs.length <= GET_MANY_CHUNK) {
      if (refs.length > 0) await this.getChunk(refs, 0, out, call);
      return out;
    }
    // A large batch goes as several MGETs, a few in flight at once, and each chunk is decoded as
    // soon as it arrives, while Redis still answers the next ones.
    await inWindow(Math.ceil(refs.length / GET_MANY_CHUNK), BULK_WINDOW, (c) => {
      const start = c * GET_MANY_CHUNK;
      return this.getChunk(refs.slice(start, start + GET_MANY_CHUNK), start, out, call);
    });
    return out;
  }

  /**
   * Writes `prepared` as pipelines of 1,000 SETs, a few in flight at once, counting each entry's
   * write or failure; after a failed pipeline no further one is sent. True when all were stored.
   */
  async setMany(prepared: readonly PreparedEntry[], timeoutMs: number | undefined): Promise<boolean> {
    let ok = true;
    const started = await inWindow(Math.ceil(prepared.length / SET_MANY_CHUNK), BULK_WINDOW, async (c) => {
      const part = prepared.length <= SET_MANY_CHUNK ? prepared : prepared.slice(c * SET_MANY_CHUNK, (c + 1) * SET_MANY_CHUNK);
      const stored = await this.#policy.run('setMany', operationKind(part.map((p) => p.ref)), undefined, false, async (s) => {
        await (timeoutMs === undefined ? s.setMany(part) : s.setMany(part, { timeoutMs }));
        return true;
      });
      if (!stored) ok = false;
      for (const p of part) this.#stats.wrote(p.ref.kind, stored);
    }, () => !ok);
    // The pipelines never sent after a failure are failed writes too.
    for (let i = started * SET_MANY_CHUNK; i < prepared.length; i++) this.#stats.wrote(prepared[i]!.ref.kind, false);
    return ok;
  }

  /** Reads `refs` with one store call and decodes them into `out` from index `offset`. */
  async getChunk<T>(refs: CacheKey[], offset: number, out: (T | null)[], call: BulkCall): Promise<void> {
    const keys = refs.map((r) => r.key);
    const { timeoutMs } = call;
    const payloads = await this.read('getMany', operationKind(refs), call.throwOnFailure, (s) => (timeoutMs === undefined ? s.getMany(keys) : s.getMany(keys, { timeoutMs })));
    let pending: Promise<unknown>[] | undefined;
    for (let i = 0; i < refs.length; i++) {
      const value = this.#values.decode<T>(refs[i]!, payloads?.[i] ?? null, 'getMany');
      if (value instanceof Promise) (pending ??= []).push(value.then((v) => (out[offset + i] = v)));
      else out[offset + i] = value;
    }
    if (pending) await Promise.all(pending);
  }

  /**
   * A store read: null when the backend failed (reported as an error event), or with
   * `throwOnFailure` that failure thrown, reported all the same.
   */
  async read<T>(operation: string, kind: string, throwOnFailure: boolean, fn: (store: CacheStore) => Promise<T>): Promise<T | null> {
    if (!throwOnFailure) return this.#policy.run<T | null>(operation, kind, undefined, null, fn);
    const outcome = await this.#policy.attempt(operation, kind, undefined, fn);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }
}
