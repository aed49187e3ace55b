import { toCacheError } from './errors.js';
import type { Health } from './health.js';
import { formatBytes, hitRate, type CacheStats, type CacheStatus } from './stats.js';
import type { CacheStore, StoreInfo } from './stores/store.js';

const UNKNOWN_INFO: StoreInfo = {
  version: 'unknown', connectedClients: 0, usedMemoryBytes: 0, totalCommandsProcessed: 0, keyspaceHits: 0,
  keyspaceMisses: 0, maxMemoryBytes: 0, maxMemoryPolicy: 'unknown', evictedKeys: 0, expiredKeys: 0, keys: 0,
};

/**
 * The server's figures (one PING and one INFO, each under the store's deadline) beside this
 * process's counters, with a health status: `unhealthy` when the server did not answer. Never
 * throws for backend failures: the reason is in `error`.
 */
export async function collectStats(store: CacheStore, health: Health, process: CacheStats['process']): Promise<CacheStats> {
  let info: StoreInfo | undefined;
  let latencyMs = 0;
  let error: string | undefined;
  try {
    latencyMs = await store.ping();
    info = await store.info();
  } catch (e) {
    error = toCacheError(e, 'E_INTERNAL', 'stats failed').message;
  }
  const status: CacheStatus = info === undefined ? 'unhealthy' : health.status;
  const i = info ?? UNKNOWN_INFO;
  const reason = error ?? (status !== 'healthy' ? (health.lastError?.message ?? (health.isFallback ? 'running on the fallback store' : undefined)) : undefined);
  return {
    status,
    backend: store.backend,
    location: store.location,
    ...(reason ? { error: reason } : {}),
    serverVersion: i.version,
    connectedClients: i.connectedClients,
    usedMemory: formatBytes(i.usedMemoryBytes),
    usedMemoryBytes: i.usedMemoryBytes,
    hitRate: hitRate(i.keyspaceHits, i.keyspaceMisses),
    totalCommandsProcessed: i.totalCommandsProcessed,
    keyspaceHits: i.keyspaceHits,
    keyspaceMisses: i.keyspaceMisses,
    maxMemoryBytes: i.maxMemoryBytes,
    maxMemoryPolicy: i.maxMemoryPolicy,
    evictedKeys: i.evictedKeys,
    expiredKeys: i.expiredKeys,
    keys: i.keys,
    latencyMs,
    ...(i.nodes ? { nodes: i.nodes } : {}),
    process,
  };
}
