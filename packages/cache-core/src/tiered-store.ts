import { BULK_WINDOW, GET_MANY_CHUNK, inWindow, type Bulk, type BulkCall } from './bulk.js';
import type { CacheErrorEvent, CacheLogger, LocalAttachments } from './cache-types.js';
import type { CacheConfig } from './config.js';
import type { CacheKey } from './keys.js';
import { operationKind, type KindStatsRegistry } from './kind-stats.js';
import { InvalidationTracker } from './l1/invalidation-tracker.js';
import { L1_MISS, LocalTier } from './l1/local-tier.js';
import type { OperationPolicy } from './operation-policy.js';
import type { CacheStats } from './stats.js';
import { capabilitiesOf } from './stores/capabilities.js';
import type { CacheStore } from './stores/store.js';
import type { ValuePipeline } from './value-pipeline.js';

/**
 * How often each L1 tracking connection proves it is alive (a PING under the command deadline):
 * a connection that went silent (a frozen server, a dead path) stops L1 within about this plus
 * the deadline, even though no error reached the socket.
 */
const L1_HEARTBEAT_MS = 1000;

/** What the tiered store needs of the cache it serves. */
export interface TieredStoreParts {
  config: CacheConfig;
  stats: KindStatsRegistry;
  policy: OperationPolicy;
  values: ValuePipeline;
  bulk: Bulk;
  logger: CacheLogger;
  report(event: CacheErrorEvent): void;
}

/**
 * The two tiers of a cache: the in-process L1 (when `CACHE_L1_MAX_MB` is set, serving only while
 * Redis tracks for it) in front of the store behind the operation policy. It owns L1's start-up,
 * its fills (the epoch and version protocol of local-tier.ts), and the one rule for writes: L1
 * drops the keys before and after every write of this process. Without L1 every call is the
 * store's, at the cost of one closure per write.
 */
export class TieredStore {
  readonly #config: CacheConfig;
  readonly #stats: KindStatsRegistry;
  readonly #policy: OperationPolicy;
  readonly #values: ValuePipeline;
  readonly #bulk: Bulk;
  readonly #logger: CacheLogger;
  readonly #report: (event: CacheErrorEvent) => void;
  /** The in-process tier, when CACHE_L1_MAX_MB is set; it serves only while Redis tracks for it. */
  readonly #local: LocalTier | undefined;
  #tracker: InvalidationTracker | undefined;
  readonly #decodeHeld = (bytes: Uint8Array) => this.#values.decodeHeld(bytes);

  constructor(parts: TieredStoreParts) {
    this.#config = parts.config;
    this.#stats = parts.stats;
    this.#policy = parts.policy;
    this.#values = parts.values;
    this.#bulk = parts.bulk;
    this.#logger = parts.logger;
    this.#report = (event) => parts.report(event);
    const config = parts.config;
    this.#local = config.l1.maxBytes > 0 ? new LocalTier(config.l1, config.keyPrefix, parts.stats, config.keyLayout === 'finrisk-python') : undefined;
  }

  /** The store is known: L1 starts hearing Redis's invalidations, or says why it cannot. */
  start(store: CacheStore): void {
    const local = this.#local;
    if (!local || this.#tracker) return;
    const tracking = capabilitiesOf(store).tracking;
    if (!tracking) {
      this.#logger.warn(
        `finrisk-cache: CACHE_L1_MAX_MB is set, but L1 is off: only Redis can keep it coherent across processes, and the store is the ${store.backend} store at ${store.location}.`,
      );
      return;
    }
    const tracker = (this.#tracker = new InvalidationTracker({
      prefixes: local.prefixes,
      nodes: () => tracking.trackingNodes(),
      listener: {
        invalidate: (key) => local.invalidate(key),
        invalidateAll: () => local.invalidateAll(),
        up: () => local.resume(),
        down: () => local.suspend(),
      },
      deadlineMs: Math.max(this.#config.commandTimeoutMs, 1000),
      heartbeatMs: L1_HEARTBEAT_MS,
      onError: (error) => this.#report({ error, operation: 'l1' }),
    }));
    tracking.onTopologyChange(() => tracker.refresh());
    tracker.start();
  }

  /** Reads a value through L1 when it covers the key; null when missing, undecodable, or the backend failed. */
  async get<T>(ref: CacheKey): Promise<T | null> {
    const local = this.#local;
    if (local?.covers(ref)) {
      // An L1 hit answers without a round trip, a promise of its own or an array: the hot path.
      const held = local.read(ref, this.#decodeHeld);
      if (held !== L1_MISS) {
        this.#stats.read(ref, true);
        return held as T;
      }
      return (await this.#fetch<T>([ref], 'get'))[0]!;
    }
    const payload = await this.#policy.run('get', ref.kind, ref.key, null, (s) => s.get(ref.key));
    return this.#values.decode<T>(ref, payload, 'get');
  }

  /** Reads many keys, through L1 for those it covers, in the bulk window; values in the order of `refs`. */
  getMany<T>(refs: CacheKey[], call: BulkCall): Promise<(T | null)[]> {
    return this.#local === undefined ? this.#bulk.getMany<T>(refs, call) : this.#getManyLocal<T>(refs, call);
  }

  /**
   * getMany when L1 covers some keys: hits first (a batch that L1 answers whole makes no round
   * trip), then the misses through L1 and the keys it does not cover as usual, 1,000 per call.
   */
  async #getManyLocal<T>(refs: CacheKey[], call: BulkCall): Promise<(T | null)[]> {
    const local = this.#local!;
    const out = new Array<T | null>(refs.length);
    let missed: number[] | undefined;
    let others: number[] | undefined;
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      if (!local.covers(ref)) {
        (others ??= []).push(i);
        continue;
      }
      const held = local.read(ref, this.#decodeHeld);
      if (held === L1_MISS) (missed ??= []).push(i);
      else {
        this.#stats.read(ref, true);
        out[i] = held as T;
      }
    }
    if (missed === undefined && others === undefined) return out;
    // The same window of 1,000-key calls as without L1.
    const parts: (() => Promise<void>)[] = [];
    for (let start = 0; missed && start < missed.length; start += GET_MANY_CHUNK) {
      const indexes = missed.slice(start, start + GET_MANY_CHUNK);
      parts.push(() => this.#fetch<T>(indexes.map((i) => refs[i]!), 'getMany', call.throwOnFailure).then((values) => indexes.forEach((i, j) => (out[i] = values[j]!))));
    }
    for (let start = 0; others && start < others.length; start += GET_MANY_CHUNK) {
      const indexes = others.slice(start, start + GET_MANY_CHUNK);
      const chunk = new Array<T | null>(indexes.length);
      parts.push(() => this.#bulk.getChunk(indexes.map((i) => refs[i]!), 0, chunk, call).then(() => indexes.forEach((i, j) => (out[i] = chunk[j]!))));
    }
    await inWindow(parts.length, BULK_WINDOW, (i) => parts[i]!());
    return out;
  }

  /**
   * Reads keys that L1 covers but does not hold, from Redis with their TTLs (one round trip), and
   * keeps each in L1 unless an invalidation of its key arrived while it was in flight.
   */
  async #fetch<T>(wanted: readonly CacheKey[], operation: string, throwOnFailure = false): Promise<(T | null)[]> {
    const local = this.#local!;
    const out = new Array<T | null>(wanted.length);
    if (!local.isServing) {
      // Tracking is not established: read as if there were no L1, and keep nothing.
      const payloads = await this.#bulk.read(operation, operationKind(wanted), throwOnFailure, (s) => s.getMany(wanted.map((r) => r.key)));
      await Promise.all(wanted.map(async (ref, j) => (out[j] = await this.#values.decode<T>(ref, payloads?.[j] ?? null, operation))));
      return out;
    }
    const fills = wanted.map((ref) => local.startFill(ref.key));
    const sentAt = performance.now();
    let got: { values: (Uint8Array | null)[]; pttls: number[] } | null;
    try {
      got = await this.#bulk.read(operation, operationKind(wanted), throwOnFailure, (s) => capabilitiesOf(s).tracking!.getManyWithTtl(wanted.map((r) => r.key)));
    } catch (error) {
      // Strict mode throws the backend's failure: the fills it started end here, holding nothing.
      for (const fill of fills) local.abandonFill(fill);
      throw error;
    }
    // A TTL read now counts from when the request left: the entry expires no later than the key.
    const elapsed = performance.now() - sentAt;
    await Promise.all(
      wanted.map(async (ref, j) => {
        const decoded = await this.#values.decodeToHold<T>(ref, got?.values[j] ?? null, operation, local.maxValueBytes);
        out[j] = decoded.value;
        const pttl = got?.pttls[j] ?? -2;
        if (decoded.hold === undefined || pttl === -2) local.abandonFill(fills[j]!);
        else local.finishFill(fills[j]!, ref.kind, decoded.hold, pttl === -1 ? undefined : Math.floor(pttl - elapsed));
      }),
    );
    return out;
  }

  /**
   * Runs a write of `keys` (a full key, or refs) under the one rule for writes: L1 drops them
   * before the write, so that a read in flight keeps nothing, and again after it, since a read
   * that filled L1 meanwhile may have read the old value. With `changed`, a write that says it
   * changed nothing (a set-if-absent that found the key) leaves L1 alone: only after it, and only
   * when `changed` says so, are the keys dropped.
   */
  write<T>(keys: string | readonly { key: string }[], fn: () => Promise<T>, changed?: (result: T) => boolean): Promise<T> {
    const local = this.#local;
    if (local === undefined) return fn();
    if (changed === undefined) drop(local, keys);
    return fn().then((result) => {
      if (changed === undefined || changed(result)) drop(local, keys);
      return result;
    });
  }

  /**
   * The value L1 holds for `key` now, without a round trip, a promise or an array; undefined
   * when L1 does not hold it (or is off, or not serving). A hit counts as a read of the key's kind.
   */
  peek<T>(key: CacheKey): T | undefined {
    const local = this.#local;
    if (local === undefined || !local.covers(key)) return undefined;
    const held = local.read(key, this.#decodeHeld, false);
    if (held === L1_MISS) return undefined;
    this.#stats.read(key, true);
    return held as T;
  }

  /** Resolves once every change Redis reported before the call has reached L1; false when L1 is off or not serving. */
  async sync(): Promise<boolean> {
    return (await this.#tracker?.sync()) ?? false;
  }

  /** What may be kept in L1 beside an entry, dropped with it; undefined when L1 is off. */
  get attachments(): LocalAttachments | undefined {
    const local = this.#local;
    if (!local) return undefined;
    return {
      get: (key, tag) => local.attachment(key.key, tag),
      set: (key, tag, value, bytes) => local.attach(key.key, tag, value, bytes),
    };
  }

  /** L1's figures for process statistics; undefined when L1 is off. */
  get l1Stats(): CacheStats['process']['l1'] {
    const local = this.#local;
    return local ? { serving: local.isServing, bytes: local.bytes, maxBytes: this.#config.l1.maxBytes } : undefined;
  }

  /** Ends L1's tracking connections. */
  close(): void {
    this.#tracker?.close();
  }
}

function drop(local: LocalTier, keys: string | readonly { key: string }[]): void {
  if (typeof keys === 'string') local.invalidate(keys);
  else for (const ref of keys) local.invalidate(ref.key);
}
