import { createClient } from '@redis/client';
import { describeRedisAddress, type CacheConfig, type CacheStats, type HostPort } from '@finrisk/cache-core';
import { describeNodes, type ClusterNode } from '../cluster-nodes.js';
import { rootMessage } from '../command-context.js';

/** One server of a Sentinel group, as the sentinels see it. */
export interface SentinelServer {
  address: string;
  /** `master`, `slave`, with `s_down`, `o_down`, `disconnected` when the sentinels think it is not well. */
  flags: string;
  /** Replicas: the state of their link to the master (`ok` or `err`). */
  linkStatus?: string;
  /** False when a flag says the server is down or disconnected. */
  healthy: boolean;
}

/** One sentinel: whether it answered, and which master it names. */
export interface SentinelNode {
  address: string;
  reachable: boolean;
  /** Why it did not answer. */
  error?: string;
  /** The master's address this sentinel names. */
  master?: string;
  /** Sentinels needed to agree that the master is down. */
  quorum?: number;
  /** Other sentinels this one knows. */
  otherSentinels?: number;
}

/** Nodes, roles and health of the deployment the dashboard watches. */
export type TopologyView =
  | { kind: 'single'; address: string; status: CacheStats['status']; error?: string }
  | { kind: 'cluster'; address: string; summary: string; nodes: (ClusterNode & { healthy: boolean })[] }
  | { kind: 'sentinel'; address: string; masterName: string; master: SentinelServer | null; replicas: SentinelServer[]; sentinels: SentinelNode[]; agreed: boolean }
  | { kind: 'local'; address: string; status: CacheStats['status']; error?: string };

/** Deadline of one sentinel's answers (connect and both commands), in ms. */
export const SENTINEL_TIMEOUT_MS = 2000;

/** Pairs of a RESP2 flat array (`[k, v, k, v]`) or a RESP3 map, as an object of strings. */
function fields(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (reply instanceof Map) {
    for (const [k, v] of reply) out[String(k)] = String(v);
  } else if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  } else if (reply && typeof reply === 'object') {
    for (const [k, v] of Object.entries(reply)) out[k] = String(v);
  }
  return out;
}

const DOWN_FLAGS = /(^|,)(s_down|o_down|disconnected|failover_in_progress)(,|$)/;

function server(f: Record<string, string>): SentinelServer {
  const flags = f.flags ?? '';
  const linkStatus = f['master-link-status'];
  return {
    address: `${f.ip ?? '?'}:${f.port ?? '?'}`,
    flags,
    ...(linkStatus ? { linkStatus } : {}),
    healthy: !DOWN_FLAGS.test(flags) && (linkStatus === undefined || linkStatus === 'ok'),
  };
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asks one sentinel for the master it names and that master's replicas, over a connection of its
 * own that does not reconnect (the SDK's sentinel client also connects to sentinels without the
 * data nodes' credentials).
 */
async function askSentinel(sentinel: HostPort, masterName: string, connectTimeoutMs: number): Promise<{ node: SentinelNode; master?: SentinelServer; replicas?: SentinelServer[] }> {
  const address = `${sentinel.host}:${sentinel.port}`;
  const client = createClient({ socket: { host: sentinel.host, port: sentinel.port, connectTimeout: connectTimeoutMs, reconnectStrategy: false }, disableOfflineQueue: true });
  client.on('error', () => undefined); // reported through the rejected command below
  try {
    return await withDeadline(
      (async () => {
        await client.connect();
        const master = fields(await client.sendCommand(['SENTINEL', 'MASTER', masterName]));
        const replicas = ((await client.sendCommand(['SENTINEL', 'REPLICAS', masterName])) as unknown[]).map((r) => server(fields(r)));
        return {
          node: {
            address, reachable: true, master: `${master.ip}:${master.port}`,
            ...(master.quorum ? { quorum: Number(master.quorum) } : {}),
            ...(master['num-other-sentinels'] ? { otherSentinels: Number(master['num-other-sentinels']) } : {}),
          },
          master: server(master),
          replicas,
        };
      })(),
      SENTINEL_TIMEOUT_MS,
      `sentinel ${address}`,
    );
  } catch (error) {
    return { node: { address, reachable: false, error: rootMessage(error) } };
  } finally {
    client.destroy();
  }
}

/** The Sentinel group: every sentinel asked in parallel; the master and replicas as the first that answered sees them. */
export async function readSentinelTopology(config: CacheConfig): Promise<TopologyView> {
  const masterName = config.sentinelMaster ?? '';
  const answers = await Promise.all((config.sentinels ?? []).map((s) => askSentinel(s, masterName, config.connectTimeoutMs)));
  const first = answers.find((a) => a.master);
  const masters = new Set(answers.filter((a) => a.node.master).map((a) => a.node.master));
  return {
    kind: 'sentinel',
    address: describeRedisAddress(config),
    masterName,
    master: first?.master ?? null,
    replicas: first?.replicas ?? [],
    sentinels: answers.map((a) => a.node),
    agreed: masters.size <= 1,
  };
}

/**
 * The topology from a sample of the server: a cluster's nodes come with its INFO (`stats()`),
 * one server or the embedded store is just its address and status. Sentinel groups are read
 * apart ({@link readSentinelTopology}), at the pace of the fleet reads.
 */
export function topologyFromStats(config: CacheConfig, stats: CacheStats): TopologyView {
  const error = stats.error ? { error: stats.error } : {};
  if (stats.backend !== 'redis') return { kind: 'local', address: stats.location, status: stats.status, ...error };
  if (config.clusterNodes) {
    const nodes = (stats.nodes ?? []).map((n) => ({ ...n, healthy: !n.role.includes('unreachable') }));
    return { kind: 'cluster', address: describeRedisAddress(config), summary: nodes.length ? describeNodes(nodes) : 'no node answered', nodes };
  }
  return { kind: 'single', address: describeRedisAddress(config), status: stats.status, ...error };
}
