import { formatBytes, type Cache, type CacheConfig, type StoreInfo } from '@finrisk/cache-core';
import type { Colors } from './output/colors.js';
import { formatCount } from './output/format.js';
import { formatTable } from './output/table.js';

/** One node of a Redis Cluster as `stats` and `check` show it. */
export type ClusterNode = NonNullable<StoreInfo['nodes']>[number];

/**
 * The nodes of the cluster `cache` is on, each with its role, memory and clients; undefined when
 * the cache is not on a cluster, or when no node could be asked (the command has reported why).
 * The cache must have resolved its store (after `stats()` or `checkConnection()`).
 */
export async function readClusterNodes(cache: Cache): Promise<ClusterNode[] | undefined> {
  if (!cache.config.clusterNodes || cache.store?.backend !== 'redis') return undefined;
  try {
    return (await cache.store.info()).nodes;
  } catch {
    return undefined;
  }
}

/** `3 masters, 3 replicas` (and how many of them did not answer). */
export function describeNodes(nodes: readonly ClusterNode[]): string {
  const count = (role: string) => nodes.filter((n) => n.role.startsWith(role)).length;
  const unreachable = nodes.filter((n) => n.role.includes('unreachable')).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [plural(count('master'), 'master'), plural(count('replica'), 'replica'), ...(unreachable ? [`${unreachable} unreachable`] : [])].join(', ');
}

/** One line per node: address, role, used memory, connected clients. */
export function formatNodes(nodes: readonly ClusterNode[], colors: Colors): string {
  const rows = nodes.map((n) => [
    n.address,
    n.role.includes('unreachable') ? colors.red(n.role) : n.role,
    formatBytes(n.usedMemoryBytes),
    formatCount(n.connectedClients),
  ]);
  return formatTable(rows, { header: ['Node', 'Role', 'Used Memory', 'Clients'], alignRight: [2, 3] });
}

/**
 * Cache overrides for the commands that ask every node (`stats`, `check`, `monitor`): on a cluster
 * the INFO of six nodes, two of them over fresh connections to replicas, runs under one command
 * deadline, and the default 250 ms is too short for it (a healthy cluster would read as down).
 * An explicit CACHE_COMMAND_TIMEOUT_MS is kept.
 */
export function clusterInfoOverrides(config: CacheConfig): { commandTimeoutMs?: number } {
  if (!config.clusterNodes || config.sources.commandTimeoutMs !== 'default') return {};
  return { commandTimeoutMs: Math.max(config.commandTimeoutMs, CLUSTER_INFO_TIMEOUT_MS) };
}

/** Deadline of a cluster-wide INFO in the CLI, in ms. */
export const CLUSTER_INFO_TIMEOUT_MS = 3000;
