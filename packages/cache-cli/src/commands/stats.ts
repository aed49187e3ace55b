import type { CacheStats, ServiceStats } from '@finrisk/cache-core';
import { clusterInfoOverrides, describeNodes, formatNodes, readClusterNodes } from '../cluster-nodes.js';
import type { CommandDefinition } from '../command-definition.js';
import { ExitCode } from '../exit-codes.js';
import { measureKeyUsage, type KindUsage } from '../key-usage.js';
import { formatBytes, formatCount, formatMs, formatPercent } from '../output/format.js';
import { formatPairs, formatTable } from '../output/table.js';
import type { Colors } from '../output/colors.js';

/** The hit rate as text; the embedded and memory stores count only this process's reads. */
function hitRateText(stats: CacheStats, reads: number): string {
  const scope = stats.backend === 'redis' ? '' : 'this process only: the embedded store keeps no shared counters';
  const note = reads === 0 ? ['no reads yet', scope] : [scope];
  const text = note.filter(Boolean).join('; ');
  return `${formatPercent(reads === 0 ? 0 : stats.hitRate)}${text ? ` (${text})` : ''}`;
}

/** The `stats` lines: label and value, `Hit Rate` among them (the guide greps for it). */
export function statsPairs(stats: CacheStats, colors: Colors): [string, string][] {
  const status = stats.status === 'healthy' ? colors.green(stats.status) : colors.yellow(stats.status);
  const reads = stats.keyspaceHits + stats.keyspaceMisses;
  const maxMemory =
    stats.maxMemoryBytes > 0
      ? `${formatBytes(stats.maxMemoryBytes)} (${formatPercent(stats.usedMemoryBytes / stats.maxMemoryBytes)} used)`
      : 'unlimited';
  return [
    ['Status', stats.error ? `${status} (${stats.error})` : status],
    ['Backend', `${stats.backend} ${stats.location}`],
    ['Server Version', stats.serverVersion],
    ['Connected Clients', formatCount(stats.connectedClients)],
    ['Used Memory', stats.usedMemory],
    ['Max Memory', maxMemory],
    ['Eviction Policy', stats.maxMemoryPolicy],
    ['Hit Rate', hitRateText(stats, reads)],
    ['Keyspace Hits', formatCount(stats.keyspaceHits)],
    ['Keyspace Misses', formatCount(stats.keyspaceMisses)],
    ['Total Commands', formatCount(stats.totalCommandsProcessed)],
    ['Evicted Keys', formatCount(stats.evictedKeys)],
    ['Expired Keys', formatCount(stats.expiredKeys)],
    ['Keys', formatCount(stats.keys)],
    ['Latency', formatMs(stats.latencyMs)],
  ];
}

/**
 * The fleet's application hit rate per service and kind, from the counters every SDK process
 * publishes (the server's hit rate above counts every client's reads, bookkeeping included).
 */
export function fleetLines(services: readonly ServiceStats[]): string[] {
  if (services.length === 0) return ['Fleet: no SDK process published statistics in the last three intervals (CACHE_STATS_PUBLISH)'];
  const rows: string[][] = [];
  for (const service of services) {
    for (const [kind, k] of Object.entries(service.byKind).sort(([a], [b]) => a.localeCompare(b))) {
      if (k.hits + k.misses + k.writes + k.l1Hits + k.l1Misses === 0) continue;
      const l1 = k.l1Hits + k.l1Misses > 0 ? `${formatPercent(k.l1HitRate)} (${formatBytes(k.l1Bytes)})` : '-';
      // A kind with writes and no reads has no hit rate (0% would read as every read missing).
      const rate = k.hits + k.misses > 0 ? formatPercent(k.hitRate) : 'n/a';
      rows.push([service.service, String(service.instances), kind, rate, formatCount(k.hits), formatCount(k.misses), formatCount(k.writes), l1]);
    }
  }
  return [
    'Fleet hit rate (per service and kind, from the processes\' own counters):',
    formatTable(rows, { header: ['Service', 'Instances', 'Kind', 'Hit Rate', 'Hits', 'Misses', 'Writes', 'L1 Hit Rate (bytes)'], alignRight: [1, 3, 4, 5, 6] }),
  ];
}

/** Advice from the guide's "High Memory Usage" section, when the numbers call for it. */
export function memoryAdvice(stats: CacheStats): string[] {
  const advice: string[] = [];
  if (stats.backend !== 'redis') return advice;
  if (stats.maxMemoryBytes === 0) advice.push('No maxmemory set: Redis grows until the machine runs out. Set maxmemory and a policy such as allkeys-lru.');
  else if (stats.maxMemoryPolicy === 'noeviction') advice.push('maxmemory-policy is noeviction: writes fail when memory is full. Consider allkeys-lru or volatile-lru.');
  if (stats.evictedKeys > 0) advice.push(`${formatCount(stats.evictedKeys)} keys were evicted: memory is full; shorten TTLs or raise maxmemory.`);
  return advice;
}

/** `stats`: server and cache statistics; `--keys` adds keys and bytes per kind. */
export const statsCommand: CommandDefinition = {
  name: 'stats',
  summary: 'show cache statistics: hit rate, memory, maxmemory and policy, evicted and expired keys',
  description:
    'Shows the statistics of the backend: status, memory used, maxmemory and its eviction policy, hit rate ' +
    '(server-wide keyspace hits / (hits + misses)), evicted and expired keys. With --keys it also counts the keys ' +
    'and bytes of each kind (prediction, feature, dataframe, ...) with SCAN, never KEYS. On a Redis Cluster the ' +
    'figures are totals over the masters (the hit rate from the summed counters), followed by one line per node ' +
    'with its role, memory and clients.',
  options: [{ flags: '--keys', description: 'count keys and bytes per kind (SCAN, with a progress bar on a terminal)' }],
  examples: ['finrisk-cache stats', 'finrisk-cache stats | grep "Hit Rate"', 'finrisk-cache stats --keys', 'finrisk-cache stats --json'],
  async run(ctx, _args, options) {
    const cache = ctx.cache(clusterInfoOverrides(ctx.config()));
    let stats = await cache.stats();
    let usage: KindUsage[] | undefined;
    if (options.keys === true && stats.status !== 'unhealthy') {
      usage = await measureKeyUsage(cache, ctx.out.progress({ label: 'Counting keys' }), stats.keys);
    }
    const fleet = stats.status !== 'unhealthy' && stats.backend === 'redis' ? await cache.fleetStats() : null;
    const nodes = await readClusterNodes(cache);
    // As in `check`: a cluster client that knows no answering master has nothing to report on.
    if (ctx.config().clusterNodes && stats.status !== 'unhealthy' && !nodes?.some((n) => n.role === 'master')) {
      stats = { ...stats, status: 'unhealthy', error: 'the cluster did not list a master that answers (slots not served?)' };
    }
    const { process: _process, ...server } = stats;
    ctx.out.result({ ...server, fallback: cache.isFallback, ...(nodes ? { nodes } : {}), ...(usage ? { byKind: usage } : {}), ...(fleet ? { fleet: fleet.services } : {}) }, () => {
      const c = ctx.out.colors;
      const pairs = statsPairs(stats, c);
      if (nodes) pairs.splice(2, 0, ['Cluster', `${describeNodes(nodes)}; the figures below are totals over the masters`]);
      const lines = [formatPairs(pairs)];
      if (nodes) lines.push('', formatNodes(nodes, c));
      if (usage) {
        const rows = usage.map((u) => [u.kind, formatCount(u.keys), formatBytes(u.bytes)]);
        const total = usage.reduce((t, u) => ({ keys: t.keys + u.keys, bytes: t.bytes + u.bytes }), { keys: 0, bytes: 0 });
        rows.push(['total', formatCount(total.keys), formatBytes(total.bytes)]);
        lines.push('', formatTable(rows, { header: ['Kind', 'Keys', 'Bytes'], alignRight: [1, 2] }));
      }
      if (fleet) lines.push('', ...fleetLines(fleet.services));
      const advice = memoryAdvice(stats);
      if (advice.length) lines.push('', ...advice.map((a) => c.yellow(`note: ${a}`)));
      return lines.join('\n');
    });
    if (stats.status === 'unhealthy') {
      ctx.out.error(`the ${stats.backend} backend at ${stats.location} did not answer: ${stats.error ?? 'no answer'}`);
      return ExitCode.UNAVAILABLE;
    }
  },
};
