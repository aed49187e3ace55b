/** What this process saw for one kind of entry (`prediction`, `feature`, `kv`, ...). */
export interface KindStats {
  /** Reads that found a value. */
  hits: number;
  /** Reads that found nothing (or a value that could not be decoded). */
  misses: number;
  /** Writes that were stored. */
  writes: number;
  /** Writes that were not stored because the backend failed. */
  writeFailures: number;
  /** Backend or payload errors. */
  errors: number;
  /** Operations timed, and their total time in ms (for an average). */
  operations: number;
  totalLatencyMs: number;
  /** Reads answered by the in-process L1 tier (also counted in `hits`). */
  l1Hits: number;
  /** Reads of a kind L1 holds that it did not have (they went to Redis). */
  l1Misses: number;
  /** Entries L1 dropped to stay under its size. */
  l1Evictions: number;
  /** Entries L1 dropped because the key changed (a write, delete, expiry, eviction or flush, by anyone) or tracking was lost. */
  l1Invalidations: number;
  /** Bytes L1 holds now for the kind (as counted against CACHE_L1_MAX_MB). */
  l1Bytes: number;
}

/** Health of a cache: `degraded` means reachable but failing, or running on a fallback store. */
export type CacheStatus = 'healthy' | 'degraded' | 'unhealthy';

/** What `getCacheStats()` returns: the guide's fields in camelCase, and more. */
export interface CacheStats {
  status: CacheStatus;
  /** The store in use. */
  backend: 'redis' | 'local' | 'memory';
  /** Where the data is (masked Redis address or file path). */
  location: string;
  /** Why the status is not healthy. */
  error?: string;
  /** Version of the server or embedded engine. */
  serverVersion: string;
  connectedClients: number;
  /** Memory used by the server, as text: `512B`, `12.50KB`, `1024.00MB` (never GB, so that the guide's "MB" check works). */
  usedMemory: string;
  usedMemoryBytes: number;
  /** Server-wide hit rate, 0..1: keyspace hits / (hits + misses); every client of the server counts. */
  hitRate: number;
  totalCommandsProcessed: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  /** 0 when the server has no memory limit. */
  maxMemoryBytes: number;
  maxMemoryPolicy: string;
  evictedKeys: number;
  expiredKeys: number;
  /** Keys in the database (every client's). */
  keys: number;
  /** Round trip of a PING, in ms. */
  latencyMs: number;
  /** On a Redis Cluster: every node with its role, memory and clients. */
  nodes?: Array<{ address: string; role: string; usedMemoryBytes: number; connectedClients: number }>;
  /** This process's own reads and writes, per kind. */
  process: {
    hits: number;
    misses: number;
    /** hits / (hits + misses) of this process, 0..1 (0 when there were no reads). */
    hitRate: number;
    byKind: Record<string, KindStats>;
    /** The in-process L1 tier, when CACHE_L1_MAX_MB is set: whether it serves (Redis tracks for it), and its bytes. */
    l1?: { serving: boolean; bytes: number; maxBytes: number };
  };
}

/** A fresh, all-zero {@link KindStats}. */
export function emptyKindStats(): KindStats {
  return {
    hits: 0, misses: 0, writes: 0, writeFailures: 0, errors: 0, operations: 0, totalLatencyMs: 0,
    l1Hits: 0, l1Misses: 0, l1Evictions: 0, l1Invalidations: 0, l1Bytes: 0,
  };
}

/** Formats bytes as the guide expects: `B`, `KB` or `MB` with two decimals. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(2)}KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)}MB`;
}

/** hits / (hits + misses), 0 when both are 0. */
export function hitRate(hits: number, misses: number): number {
  return hits + misses === 0 ? 0 : hits / (hits + misses);
}
