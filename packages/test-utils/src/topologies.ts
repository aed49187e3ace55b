import { startRedisServer, type RedisServer } from './redis-server.ts';
import { startRedisCluster, startRedisSentinel, type RedisCluster, type RedisSentinelGroup } from './redis-topology.ts';

/** The Redis deployments every integration suite runs against. */
export type TopologyName = 'single' | 'cluster' | 'sentinel';

/**
 * The connection options of a deployment, as `createCache` and `resolveConfig` take them
 * (test-utils does not depend on cache-core, so this is structural).
 */
export type TopologyConnection =
  | { url: string }
  | { clusterNodes: string[] }
  | { sentinels: string[]; sentinelMaster: string };

/** A running deployment of one topology, as a test sees it: connection settings and server-side probes. */
export interface RedisDeployment {
  readonly topology: TopologyName;
  /** Options that connect a cache to it: spread them into `createCache({...})`. */
  readonly connection: TopologyConnection;
  /** Environment variables that connect a process (the CLI) to it: REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS. */
  readonly env: Record<string, string>;
  /** How `describeRedisAddress` names it: `redis://…`, `redis-cluster://…` or `redis-sentinel://…`. */
  readonly address: string;
  /** The underlying cluster (topology `cluster` only). */
  readonly cluster?: RedisCluster;
  /** The underlying sentinel group (topology `sentinel` only). */
  readonly sentinel?: RedisSentinelGroup;
  /** The nodes that serve writes now: the server, the current master of a sentinel group, the masters of a cluster. */
  masters(): RedisServer[];
  /**
   * `redis-cli` for commands on one key (or none), sent to the node that serves the key
   * (`redis-cli -c` on a cluster); trimmed stdout. Multi-key commands across slots fail on a
   * cluster: use {@link RedisDeployment.exists} or {@link RedisDeployment.keys}.
   */
  cli(...args: string[]): string;
  /** How many of `keys` exist, one EXISTS per key (so that keys of different slots can be asked together). */
  exists(...keys: string[]): number;
  /** Every key matching the glob on every master (SCAN on each), sorted. */
  keys(pattern?: string): string[];
  /** `calls` of one command (e.g. 'mget') in INFO commandstats, summed over the masters. */
  calls(command: string): number;
  /** A numeric field of INFO stats (e.g. 'total_reads_processed'), summed over the masters; each call adds one read per master. */
  stat(field: string): number;
  stop(): Promise<void>;
}

/** Options of {@link RedisTopology.start}. */
export interface TopologyStartOptions {
  /** Extra redis-server arguments for every data node (not for sentinels), e.g. `['--maxmemory', '100mb']`. */
  args?: string[];
}

/** A way to start a deployment; `describe.each(topologies)('... on $name', (t) => ...)`. */
export interface RedisTopology {
  readonly name: TopologyName;
  start(options?: TopologyStartOptions): Promise<RedisDeployment>;
}

const calls = (text: string, command: string) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(text)?.[1] ?? 0);
const statOf = (text: string, field: string) => {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(text);
  if (!match) throw new Error(`INFO stats has no ${field}`);
  return Number(match[1]);
};
const lines = (text: string) => text.split('\n').filter(Boolean);

/** Probes that sum over `masters()`; `cli` routes one-key commands. */
function probes(masters: () => RedisServer[], cli: (...args: string[]) => string) {
  return {
    masters,
    cli,
    exists: (...keys: string[]) => keys.reduce((n, key) => n + Number(cli('EXISTS', key)), 0),
    keys: (pattern = '*') => masters().flatMap((m) => lines(m.cli('--scan', '--pattern', pattern))).sort(),
    calls: (command: string) => masters().reduce((n, m) => n + calls(m.cli('INFO', 'commandstats'), command), 0),
    stat: (field: string) => masters().reduce((n, m) => n + statOf(m.cli('INFO', 'stats'), field), 0),
  };
}

/** The masters of a cluster that are alive now, from CLUSTER NODES of a live node. */
function clusterMasters(cluster: RedisCluster): RedisServer[] {
  const text = cluster.cli('CLUSTER', 'NODES');
  const ports = new Set<number>();
  for (const line of lines(text)) {
    const [, address, flags] = line.split(' ');
    if (!address || !flags?.includes('master') || flags.includes('fail')) continue;
    ports.add(Number(address.split('@')[0]!.split(':').at(-1)));
  }
  return cluster.nodes.filter((n) => ports.has(n.port));
}

/** One redis-server. */
export const singleNode: RedisTopology = {
  name: 'single',
  async start(options = {}) {
    const server = await startRedisServer({ args: options.args ?? [] });
    return {
      topology: 'single',
      connection: { url: server.url },
      env: { REDIS_URL: server.url },
      address: server.url,
      ...probes(() => [server], (...args) => server.cli(...args)),
      stop: () => server.stop(),
    };
  },
};

/** A Redis Cluster of 3 masters and 3 replicas. */
export const redisCluster: RedisTopology = {
  name: 'cluster',
  async start(options = {}) {
    const cluster = await startRedisCluster({ args: options.args ?? [] });
    return {
      topology: 'cluster',
      connection: { clusterNodes: cluster.seeds.split(',') },
      env: { REDIS_CLUSTER_NODES: cluster.seeds },
      address: `redis-cluster://${cluster.seeds}`,
      cluster,
      ...probes(() => clusterMasters(cluster), (...args) => cluster.cli(...args)),
      stop: () => cluster.stop(),
    };
  },
};

/** A Sentinel group: a master, a replica and 3 sentinels (about 8 s to start). */
export const redisSentinel: RedisTopology = {
  name: 'sentinel',
  async start(options = {}) {
    if (options.args?.length) throw new Error('the sentinel topology takes no extra redis-server arguments');
    const group = await startRedisSentinel();
    const master = () => {
      const port = group.currentMasterPort();
      const found = [group.master, ...group.replicas].find((n) => n.port === port);
      if (!found) throw new Error(`the sentinels name port ${port}, which is not a node of the group`);
      return found;
    };
    return {
      topology: 'sentinel',
      connection: { sentinels: group.seeds.split(','), sentinelMaster: group.masterName },
      env: { REDIS_SENTINELS: group.seeds, REDIS_SENTINEL_MASTER: group.masterName },
      address: `redis-sentinel://${group.seeds}/${group.masterName}`,
      sentinel: group,
      ...probes(() => [master()], (...args) => master().cli(...args)),
      stop: () => group.stop(),
    };
  },
};

/** The topologies every Redis integration suite runs on: one server and a cluster. */
export const topologies: readonly RedisTopology[] = [singleNode, redisCluster];

