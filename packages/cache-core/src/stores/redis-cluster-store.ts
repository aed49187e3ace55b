import { createClient, createCluster, type RedisArgument, type RedisClientOptions } from '@redis/client';
import type { CacheConfig } from '../config.js';
import { FinRiskCacheError } from '../errors.js';
import { clusterSlot } from './cluster-slot.js';
import { withDeadline } from './deadline.js';
import { parseInfo, RedisStore, redisClientOptions, type RedisClient } from './redis-store.js';
import type { StoreCallOptions, StoreEntry, StoreInfo } from './store.js';
import type { TrackingNode } from './tracking-node.js';

/** What the store needs of node-redis's cluster client beyond the command API it shares with a client. */
interface ClusterClient {
  masters: Array<{ host: string; port: number }>;
  replicas: Array<{ host: string; port: number }>;
  nodeClient(node: { host: string; port: number }): Promise<RedisClient>;
}

/** The raw command entry of node-redis's cluster client: the first key picks the node. */
interface ClusterSend {
  sendCommand(firstKey: string, isReadonly: boolean, args: RedisArgument[]): Promise<unknown>;
}

function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): Map<number, { item: T; index: number }[]> {
  const groups = new Map<number, { item: T; index: number }[]>();
  items.forEach((item, index) => {
    const slot = clusterSlot(keyOf(item));
    let group = groups.get(slot);
    if (!group) groups.set(slot, (group = []));
    group.push({ item, index });
  });
  return groups;
}

/**
 * A store on Redis Cluster (node-redis `createCluster`). Multi-key commands are split by hash
 * slot and reassembled in order; scans and statistics visit every master; the client follows
 * MOVED/ASK redirections and failovers by itself.
 */
export class RedisClusterStore extends RedisStore {
  readonly #nodeOptions: { socket?: Record<string, unknown>; password?: string; username?: string };

  constructor(config: CacheConfig) {
    // Every socket of the cluster (node connections, discovery connections, short-lived replica
    // connections) carries this signal, so that close can end the ones node-redis keeps to itself.
    const teardown = new AbortController();
    const options = redisClientOptions(config, teardown.signal);
    const { socket, password, username, commandOptions } = options;
    const { host: _host, port: _port, ...nodeSocket } = (socket ?? {}) as Record<string, unknown>;
    const cluster = createCluster({
      rootNodes: config.clusterNodes!.map((n) => ({ socket: { host: n.host, port: n.port } })),
      defaults: {
        socket: nodeSocket,
        ...(password ? { password } : {}),
        ...(username ? { username } : {}),
        disableOfflineQueue: true,
      } as never,
      commandOptions,
    } as never);
    super(config, cluster as unknown as RedisClient, teardown);
    this.#nodeOptions = { socket: nodeSocket, ...(password ? { password } : {}), ...(username ? { username } : {}) };
    // A cluster has no 'ready' of its own: 'connect' means the slot map is known.
    this.client.on('connect', () => this.notifyReady());
  }

  protected override send<T>(args: RedisArgument[], firstKey: string, readonly: boolean): Promise<T> {
    return (this.bytes as unknown as ClusterSend).sendCommand(firstKey, readonly, args) as Promise<T>;
  }

  get #cluster(): ClusterClient {
    return this.client as unknown as ClusterClient;
  }

  override getMany(keys: readonly string[], options?: StoreCallOptions): Promise<(Uint8Array | null)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    // One MGET per slot, all in flight at once: node-redis pipelines them per node.
    return this.run('MGET', () => this.getManyRaw(keys), 0, options?.timeoutMs);
  }

  /** The number of masters serving slots (0 before the slot map is known). */
  override get masterCount(): number {
    return this.#cluster.masters.length;
  }

  override setMany(entries: readonly StoreEntry[], options?: StoreCallOptions): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.run('SET (pipeline)', async () => {
      await Promise.all(
        entries.map((e) =>
          this.client.set(e.key, Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength), e.ttlMs === undefined ? {} : { expiration: { type: 'PX', value: e.ttlMs } }),
        ),
      );
    }, entries.reduce((sum, e) => sum + e.value.byteLength, 0), options?.timeoutMs);
  }

  override delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return Promise.resolve(0);
    return this.run('UNLINK', async () => {
      const counts = await Promise.all([...groupBySlot(keys, (k) => k).values()].map((group) => this.client.unlink(group.map((g) => g.item))));
      return counts.reduce((a, b) => a + b, 0);
    });
  }

  /** Every master in turn; finding a master's connection counts as a step under the scan deadline too. */
  override async *scan(prefix: string, batchSize = 1000): AsyncIterable<string[]> {
    // Before the first connection the cluster knows no master: visiting none would read as "no
    // keys", and a clear of a cluster that never answered would report success.
    if (!this.isReady || this.#cluster.masters.length === 0) {
      throw this.lastError ?? new FinRiskCacheError('E_REDIS_UNAVAILABLE', `Redis Cluster at ${this.location} is not connected; run \`finrisk-cache check\``);
    }
    for (const master of this.#cluster.masters) {
      const location = `${master.host}:${master.port}`;
      const client = await this.withScanDeadline('SCAN', location, () => this.#cluster.nodeClient(master));
      yield* this.scanNode(client, prefix, batchSize, location);
    }
  }

  /** Every master: each broadcasts invalidations for the keys it serves. */
  override trackingNodes(): TrackingNode[] {
    // Without the store's teardown signal: the tracking connections are the L1 tier's, which
    // closes them itself (and reconnects them while it lives).
    const { signal: _signal, ...socket } = this.#nodeOptions.socket ?? {};
    return this.#cluster.masters.map((m) => ({
      id: `${m.host}:${m.port}`,
      options: { ...this.#nodeOptions, socket: { ...socket, host: m.host, port: m.port } } as RedisClientOptions,
    }));
  }

  /** The slot map was (re)discovered: masters may have changed. */
  override onTopologyChange(listener: () => void): void {
    this.client.on('connect', listener);
  }

  /** MGET per slot, all in flight at once, reassembled in order (no deadline of its own). */
  protected override async getManyRaw(keys: readonly string[]): Promise<(Buffer | null)[]> {
    const out = new Array<Buffer | null>(keys.length).fill(null);
    await Promise.all(
      [...groupBySlot(keys, (k) => k).values()].map(async (group) => {
        const groupKeys = group.map((g) => g.item);
        const values = await this.send<(Buffer | null)[]>(['MGET', ...groupKeys], groupKeys[0]!, true);
        group.forEach((g, i) => (out[g.index] = values[i] ?? null));
      }),
    );
    return out;
  }

  /** Round trip to the slowest master; fails when the cluster does not serve every slot. */
  override ping(): Promise<number> {
    return this.run('PING', async () => {
      const start = performance.now();
      const masters = this.#cluster.masters;
      if (masters.length === 0) {
        throw new FinRiskCacheError('E_REDIS_UNAVAILABLE', `Redis Cluster at ${this.location} lists no master that answers`);
      }
      const states = await Promise.all(
        masters.map(async (m) => (await this.#cluster.nodeClient(m)).sendCommand(['CLUSTER', 'INFO']) as Promise<string>),
      );
      const latency = performance.now() - start;
      for (const state of states) {
        const served = Number(/cluster_slots_ok:(\d+)/.exec(state)?.[1] ?? 0);
        if (!/cluster_state:ok/.test(state) || served < 16384) {
          throw new FinRiskCacheError('E_REDIS_UNAVAILABLE', `Redis Cluster at ${this.location} does not serve every slot (${served} of 16384 ok)`);
        }
      }
      return latency;
    });
  }

  /**
   * Totals over the masters (hit rate from summed counters) and one entry per node with its
   * role. It visits every node, so it gets a longer deadline than one command: at least 2 s.
   */
  override info(): Promise<StoreInfo> {
    const limitMs = Math.max(this.commandTimeoutMs, 2000);
    // A node that does not answer is listed as unreachable instead of failing the whole INFO: its
    // own deadline ends before the call's.
    const nodeLimitMs = Math.floor(limitMs * 0.75);
    return this.run('INFO', async () => {
      const masters = this.#cluster.masters;
      const topology = await this.#topology(masters, nodeLimitMs);
      const infos = await Promise.all(topology.map(async (node) => ({ node, info: await this.#nodeInfo(node, masters, nodeLimitMs) })));
      const live = infos.filter((i) => i.node.role === 'master' && i.info).map((i) => i.info!);
      if (live.length === 0) throw new FinRiskCacheError('E_REDIS_UNAVAILABLE', `no master of the Redis Cluster at ${this.location} answered INFO`);
      const sum = (pick: (i: StoreInfo) => number) => live.reduce((total, i) => total + pick(i), 0);
      return {
        version: live[0]?.version ?? 'unknown',
        connectedClients: sum((i) => i.connectedClients),
        usedMemoryBytes: sum((i) => i.usedMemoryBytes),
        totalCommandsProcessed: sum((i) => i.totalCommandsProcessed),
        keyspaceHits: sum((i) => i.keyspaceHits),
        keyspaceMisses: sum((i) => i.keyspaceMisses),
        maxMemoryBytes: sum((i) => i.maxMemoryBytes),
        maxMemoryPolicy: live[0]?.maxMemoryPolicy ?? 'unknown',
        evictedKeys: sum((i) => i.evictedKeys),
        expiredKeys: sum((i) => i.expiredKeys),
        keys: sum((i) => i.keys),
        nodes: infos.map(({ node, info }) => ({
          address: `${node.host}:${node.port}`,
          role: info ? node.role : `${node.role} (unreachable)`,
          usedMemoryBytes: info?.usedMemoryBytes ?? 0,
          connectedClients: info?.connectedClients ?? 0,
        })),
      };
    }, 0, limitMs);
  }

  /**
   * INFO and DBSIZE of one node within `limitMs`; undefined when it did not answer. node-redis
   * only holds connections to masters, so a replica gets a short-lived one, destroyed here
   * whatever happens (a frozen replica would otherwise keep it, and the process, open).
   */
  async #nodeInfo(node: { host: string; port: number }, masters: Array<{ host: string; port: number }>, limitMs: number): Promise<StoreInfo | undefined> {
    const known = masters.find((m) => m.port === node.port && m.host === node.host);
    let temporary: RedisClient | undefined;
    const work = (async () => {
      let client: RedisClient;
      if (known) client = await this.#cluster.nodeClient(known);
      else await (client = temporary = this.#clientFor(node)).connect();
      const [text, keys] = await Promise.all([client.info(), client.dbSize()]);
      return parseInfo(text, keys);
    })();
    try {
      return await withDeadline(work, limitMs, () => new Error(`${node.host}:${node.port} did not answer INFO within ${limitMs} ms`));
    } catch {
      return undefined;
    } finally {
      temporary?.destroy();
    }
  }

  /** `CLUSTER NODES` from the first master that answers within `limitMs` (all are asked at once). */
  async #topology(masters: Array<{ host: string; port: number }>, limitMs: number): Promise<ReturnType<typeof parseClusterNodes>> {
    const asks = masters.map(async (master) => {
      const client = await this.#cluster.nodeClient(master);
      return parseClusterNodes((await client.sendCommand(['CLUSTER', 'NODES'])) as string);
    });
    try {
      return await withDeadline(Promise.any(asks), limitMs, () => new Error(`no answer within ${limitMs} ms`));
    } catch (error) {
      const cause = error instanceof AggregateError ? error.errors[0] : error;
      throw new FinRiskCacheError('E_REDIS_UNAVAILABLE', `no master of the Redis Cluster at ${this.location} answered CLUSTER NODES`, { cause });
    }
  }

  /** A client of one node that does not reconnect; its sockets end with the store's. */
  #clientFor(node: { host: string; port: number }): RedisClient {
    const client = createClient({ ...this.#nodeOptions, socket: { ...(this.#nodeOptions.socket ?? {}), host: node.host, port: node.port, reconnectStrategy: false } } as never);
    client.on('error', () => undefined); // reported through the failed INFO instead
    return client as unknown as RedisClient;
  }
}

/** Nodes of `CLUSTER NODES` that are not marked failed, with their role. */
export function parseClusterNodes(text: string): { host: string; port: number; role: 'master' | 'replica' }[] {
  const nodes: { host: string; port: number; role: 'master' | 'replica' }[] = [];
  for (const line of text.split('\n')) {
    const [, address, flags] = line.split(' ');
    if (!address || !flags || flags.includes('noaddr')) continue;
    const hostPort = address.split('@')[0]!;
    const at = hostPort.lastIndexOf(':');
    nodes.push({ host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)), role: flags.includes('master') ? 'master' : 'replica' });
  }
  return nodes.sort((a, b) => (a.role === b.role ? a.port - b.port : a.role === 'master' ? -1 : 1));
}

/** The Redis store for a configuration: a cluster when cluster nodes are set, else one server or a sentinel group. */
export function createRedisStore(config: CacheConfig): RedisStore {
  return config.clusterNodes ? new RedisClusterStore(config) : new RedisStore(config);
}
