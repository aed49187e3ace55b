import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './redis-binaries.ts';
import { startRedisServer, type RedisServer } from './redis-server.ts';

/** A Redis Cluster of real redis-server processes on loopback ports. */
export interface RedisCluster {
  /** Every node, masters first as created. */
  readonly nodes: RedisServer[];
  /** `host:port` of every node, comma-separated: the value of REDIS_CLUSTER_NODES. */
  readonly seeds: string;
  /** Runs `redis-cli -c` against the first live node. */
  cli(...args: string[]): string;
  /** The node currently serving `key` as master. */
  masterOf(key: string): RedisServer;
  /** Waits until every slot is served by a live master and the cluster says `ok`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** @default 3 */
  masters?: number;
  /** Replicas per master. @default 1 */
  replicas?: number;
  /** Extra redis-server arguments for every node. */
  args?: string[];
  /** Node timeout (failure detection), in ms. @default 1000 */
  nodeTimeoutMs?: number;
}

function cliAt(port: number, args: string[], password?: string): string {
  const auth = password ? ['--no-auth-warning', '-a', password] : [];
  return runCli(['-h', '127.0.0.1', '-p', String(port), ...auth, ...args]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a Redis Cluster (3 masters and 3 replicas by default) and waits until it serves every slot. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      nodes.push(
        await startRedisServer({
          args: [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', `nodes-${i}.conf`,
            '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
            // A replica may take over even if it was briefly disconnected from its master.
            '--cluster-replica-validity-factor', '0',
            // Replicas must hold the data before a test kills a master: sync at once, not after 5 s.
            '--repl-diskless-sync-delay', '0',
            '--appendonly', 'no',
            ...(options.args ?? []),
          ],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    runCli(['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes']);
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  const cluster: RedisCluster = {
    nodes,
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    cli(...args) {
      for (const node of nodes) {
        try {
          return cliAt(node.port, ['-c', ...args]);
        } catch {
          // that node is down: try the next one
        }
      }
      throw new Error(`no cluster node answered redis-cli ${args.join(' ')}`);
    },
    masterOf(key) {
      const slot = Number(cluster.cli('CLUSTER', 'KEYSLOT', key));
      for (const node of nodes) {
        let text: string;
        try {
          text = cliAt(node.port, ['CLUSTER', 'NODES']);
        } catch {
          continue;
        }
        for (const line of text.split('\n')) {
          const parts = line.split(' ');
          if (!parts[2]?.includes('master') || parts[2].includes('fail')) continue;
          const port = Number(parts[1]?.split(':')[1]?.split('@')[0]);
          for (const range of parts.slice(8)) {
            const [a, b] = range.split('-').map(Number);
            if (slot >= a! && slot <= (b ?? a)!) {
              const found = nodes.find((n) => n.port === port);
              if (found) return found;
            }
          }
        }
        break;
      }
      throw new Error(`no master found for slot ${slot}`);
    },
    async waitHealthy(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        let ok = true;
        for (const node of nodes) {
          try {
            if (!cliAt(node.port, ['CLUSTER', 'INFO']).includes('cluster_state:ok')) ok = false;
            // and every replica has finished its sync with its master
            const replication = cliAt(node.port, ['INFO', 'replication']);
            if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) ok = false;
          } catch {
            // a killed node: ignore it
          }
        }
        if (ok) return;
        await sleep(100);
      }
      throw new Error(`cluster did not become healthy within ${timeoutMs} ms`);
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
  try {
    await waitSettled(nodes, masters, replicas);
    await cluster.waitHealthy();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/**
 * What one node's `CLUSTER NODES` says is still unsettled, or `undefined` when it lists every
 * node, connected and without failure flags, with exactly `masters` masters that own slots and
 * `masters * replicas` replicas that name a master.
 */
function unsettledAt(port: number, total: number, masters: number, replicas: number): string | undefined {
  if (!cliAt(port, ['CLUSTER', 'INFO']).includes('cluster_state:ok')) return 'cluster_state is not ok';
  const rows = cliAt(port, ['CLUSTER', 'NODES']).split('\n').filter(Boolean).map((line) => line.split(' '));
  if (rows.length !== total) return `knows ${rows.length} of ${total} nodes`;
  let withSlots = 0;
  let attached = 0;
  for (const [, address, flags = '', masterId = '-', , , , link, ...slots] of rows) {
    if (/fail|handshake|noaddr/.test(flags)) return `${address} is flagged ${flags}`;
    if (link !== 'connected') return `${address} is ${link}`;
    if (flags.includes('master') && slots.length > 0) withSlots++;
    if (flags.includes('slave') && masterId !== '-') attached++;
  }
  if (withSlots !== masters || attached !== masters * replicas) return `sees ${withSlots} masters with slots and ${attached} replicas`;
  return undefined;
}

/**
 * Waits until every node agrees on the topology that `--cluster create` set up. `cluster_state:ok`
 * alone comes earlier: a replica's CLUSTER REPLICATE reaches the other nodes by gossip, so on a
 * loaded machine a node can serve every slot while it still lists the replicas as masters
 * (the dashboard once showed "5 masters, 1 replica" there), and its replicas may not have synced.
 */
async function waitSettled(nodes: RedisServer[], masters: number, replicas: number, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let why = '';
  for (;;) {
    why = '';
    for (const node of nodes) {
      const problem = unsettledAt(node.port, nodes.length, masters, replicas);
      if (problem !== undefined) {
        why = `node ${node.port}: ${problem}`;
        break;
      }
      const replication = cliAt(node.port, ['INFO', 'replication']);
      if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) {
        why = `node ${node.port}: its replication link is not up`;
        break;
      }
    }
    if (why === '') return;
    if (Date.now() > deadline) throw new Error(`the cluster did not settle within ${timeoutMs} ms (${why})`);
    await sleep(100);
  }
}

/** A Sentinel group: one master, replicas and sentinels, all real processes on loopback ports. */
export interface RedisSentinelGroup {
  readonly master: RedisServer;
  readonly replicas: RedisServer[];
  readonly sentinels: RedisServer[];
  /** The monitored master's name (REDIS_SENTINEL_MASTER). */
  readonly masterName: string;
  /** `host:port` of every sentinel, comma-separated: the value of REDIS_SENTINELS. */
  readonly seeds: string;
  /** The port of the current master, as the sentinels see it. */
  currentMasterPort(): number;
  stop(): Promise<void>;
}

/** Options of {@link startRedisSentinel}. */
export interface RedisSentinelOptions {
  /** @default 'finrisk-master' */
  masterName?: string;
  /** @default 1 */
  replicas?: number;
  /** @default 3 */
  sentinels?: number;
  /** Password of the data nodes (requirepass and masterauth). */
  password?: string;
  /** How long a master must be unreachable before it is considered down, in ms. @default 1000 */
  downAfterMs?: number;
}

/** Starts a master, its replicas and a quorum of sentinels watching it. */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelGroup> {
  const masterName = options.masterName ?? 'finrisk-master';
  const auth = options.password ? ['--requirepass', options.password, '--masterauth', options.password] : [];
  const started: RedisServer[] = [];
  try {
    const master = await startRedisServer({ args: auth, password: options.password });
    started.push(master);
    const replicas: RedisServer[] = [];
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      const replica = await startRedisServer({ args: [...auth, '--replicaof', '127.0.0.1', String(master.port)], password: options.password });
      started.push(replica);
      replicas.push(replica);
    }
    // Wait for the replicas to be in sync, so that a failover has someone to promote.
    for (let tries = 0; ; tries++) {
      const info = cliAt(master.port, ['INFO', 'replication'], options.password);
      if ((info.match(/state=online/g) ?? []).length >= replicas.length) break;
      if (tries > 200) throw new Error(`replicas did not sync: ${info}`);
      await sleep(50);
    }
    const sentinels: RedisServer[] = [];
    const configDirs: string[] = [];
    const quorum = Math.floor((options.sentinels ?? 3) / 2) + 1;
    for (let i = 0; i < (options.sentinels ?? 3); i++) {
      const dir = mkdtempSync(join(tmpdir(), 'finrisk-sentinel-'));
      configDirs.push(dir);
      const conf = join(dir, 'sentinel.conf');
      const lines = [
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} ${quorum}`,
        `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel parallel-syncs ${masterName} 1`,
      ];
      if (options.password) lines.push(`sentinel auth-pass ${masterName} ${options.password}`);
      writeFileSync(conf, `${lines.join('\n')}\n`);
      // redis-server CONFIG.FILE --sentinel: the config file must come first and be writable.
      const sentinel = await startRedisServer({ configFile: conf, args: ['--sentinel'] });
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    const group: RedisSentinelGroup = {
      master,
      replicas,
      sentinels,
      masterName,
      seeds: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      currentMasterPort() {
        for (const s of sentinels) {
          try {
            const [, port] = cliAt(s.port, ['SENTINEL', 'get-master-addr-by-name', masterName]).split('\n');
            if (port) return Number(port);
          } catch {
            // try the next sentinel
          }
        }
        throw new Error('no sentinel answered');
      },
      async stop() {
        await Promise.all(started.map((s) => s.stop()));
        for (const dir of configDirs) rmSync(dir, { recursive: true, force: true });
      },
    };
    // Wait until every sentinel sees the others and the replicas.
    for (let tries = 0; ; tries++) {
      const ready = sentinels.every((s) => {
        try {
          const text = cliAt(s.port, ['SENTINEL', 'master', masterName]);
          const lines = text.split('\n');
          const field = (name: string) => Number(lines[lines.indexOf(name) + 1]);
          return field('num-other-sentinels') >= sentinels.length - 1 && field('num-slaves') >= replicas.length;
        } catch {
          return false;
        }
      });
      if (ready) break;
      if (tries > 300) throw new Error('sentinels did not discover each other');
      await sleep(100);
    }
    return group;
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
}
