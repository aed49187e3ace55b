import type { createClient } from '@redis/client';
import type { FinRiskCacheError } from '../errors.js';
import type { CacheStore, StoreSetOptions } from './store.js';
import type { TrackingNode } from './tracking-node.js';

/** A store on a network connection that can be up or down (Redis). */
export interface StoreConnection {
  /** True while the connection is up and authenticated. */
  readonly isReady: boolean;
  /** The last connection error, while the connection is down: it says more than "the client is offline". */
  readonly lastError: FinRiskCacheError | undefined;
  /** The node-redis client, for users who need a command the SDK does not wrap. */
  readonly client: ReturnType<typeof createClient>;
}

/** Redis's key invalidations, which keep an in-process L1 tier coherent across processes. */
export interface TrackingSource {
  /** The nodes whose writes an L1 tier must hear about now. */
  trackingNodes(): TrackingNode[];
  /** Calls `listener` when the nodes to track may have changed (a Sentinel failover). */
  onTopologyChange(listener: () => void): void;
  /** Values with their remaining time to live in ms (-1 no expiry, -2 missing), in one round trip: what an L1 fill reads. */
  getManyWithTtl(keys: readonly string[]): Promise<{ values: (Uint8Array | null)[]; pttls: number[] }>;
}

/** What fleet statistics need of a store: a shared server other processes publish to, with sorted-set indexes. */
export interface FleetStatsStore {
  set(key: string, value: Uint8Array, options?: StoreSetOptions): Promise<boolean>;
  /** Adds `member` at `score` to `index`, drops members scored below `dropBelow`, and sets the index's time to live in ms. */
  indexAdd(index: string, member: string, score: number, dropBelow: number, ttlMs: number): Promise<void>;
  /** Members of `index` scored at least `minScore`, lowest first, at most `limit`. */
  indexMembers(index: string, minScore: number, limit: number): Promise<string[]>;
  /** The first `maxBytes + 1` bytes of each value; null for a missing key, undefined for a key that holds no string. */
  getManyBounded(keys: readonly string[], maxBytes: number): Promise<(Uint8Array | null | undefined)[]>;
}

/**
 * What a store can do beyond the {@link CacheStore} contract. The cache asks for a capability
 * instead of testing for a class, so that the cache layer depends on what it uses, and a store
 * gains a feature by declaring it.
 */
export interface StoreCapabilities {
  /** Present for a store on a Redis connection. */
  readonly connection?: StoreConnection;
  /** Present where an L1 tier can be kept coherent (Redis, through client tracking). */
  readonly tracking?: TrackingSource;
  /** Present where fleet statistics can be published and read (Redis: processes share it). */
  readonly fleet?: FleetStatsStore;
  /** How many servers the keys are spread over: a cluster's masters serving slots (0 before the slot map is known); 1 for one server. */
  masterCount(): number;
}

/**
 * Where a store keeps its capabilities. A symbol rather than a property name: the store contract
 * is public, and a user's own store may have a member of any name.
 */
export const STORE_CAPABILITIES: unique symbol = Symbol('finrisk.storeCapabilities');

/** A store that declares capabilities. */
export interface CapableStore extends CacheStore {
  readonly [STORE_CAPABILITIES]: StoreCapabilities;
}

/** The capabilities of the stores that declare none (memory, embedded, a user's own store): one server, nothing more. */
const NONE: StoreCapabilities = Object.freeze({ masterCount: () => 1 });

/** What `store` can do beyond the contract; none for an undefined store. */
export function capabilitiesOf(store: CacheStore | undefined): StoreCapabilities {
  return (store as Partial<CapableStore> | undefined)?.[STORE_CAPABILITIES] ?? NONE;
}
