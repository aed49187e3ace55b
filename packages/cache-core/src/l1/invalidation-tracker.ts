import { createClient, type RedisClientOptions } from '@redis/client';
import { FinRiskCacheError } from '../errors.js';
import { afterDeadline } from '../stores/deadline.js';
import { reconnectDelay } from '../stores/reconnect.js';
import { mapRedisError } from '../stores/redis-errors.js';
import type { TrackingNode } from '../stores/tracking-node.js';

/** SWAPDB calls the server counted (INFO commandstats; the line is absent before the first). */
function swapdbCalls(info: string): number {
  const match = /^cmdstat_swapdb:calls=(\d+)/m.exec(info);
  return match ? Number(match[1]) : 0;
}

/** What the tracker tells the local tier. */
export interface TrackingListener {
  /** A key changed (written, deleted, expired, evicted) on a tracked node. */
  invalidate(key: string): void;
  /** Every key may have changed (FLUSHDB, FLUSHALL, or the server's tracking table overflowed). */
  invalidateAll(): void;
  /** Every node is tracked again: L1 may serve (from empty). */
  up(): void;
  /** A node is not tracked any more: L1 must serve nothing. */
  down(reason: FinRiskCacheError): void;
}

/** Options of {@link InvalidationTracker}. */
export interface InvalidationTrackerOptions {
  /** Key prefixes to hear about (BCAST mode; they must not overlap). */
  prefixes: readonly string[];
  /** The nodes to track now; read again at every heartbeat and on {@link InvalidationTracker.refresh}. */
  nodes(): TrackingNode[];
  listener: TrackingListener;
  /** Deadline of the heartbeat's PING and of enabling tracking, in ms. */
  deadlineMs: number;
  /** How often each tracking connection proves it is alive, in ms. */
  heartbeatMs: number;
  /** A failure to report (tracking refused, a node that stopped answering). */
  onError(error: FinRiskCacheError): void;
  /**
   * What stops working while a node is not tracked, for the error message (a key watch is not L1).
   * @default 'L1 is not serving'
   */
  purpose?: string;
}

/** One RESP3 connection per node, in BCAST tracking mode on the prefixes. */
class TrackingConnection {
  readonly node: TrackingNode;
  readonly #client: ReturnType<typeof createClient>;
  readonly #tracker: InvalidationTracker;
  #tracking = false;
  #closed = false;
  /** True once this connection's failure was reported: one error event per outage, not one per retry. */
  #reported = false;
  /** SWAPDB calls the server had counted at the last look (swappable nodes only). */
  #swaps = 0;

  constructor(node: TrackingNode, tracker: InvalidationTracker) {
    this.node = node;
    this.#tracker = tracker;
    const socket = { ...(node.options.socket ?? {}), reconnectStrategy: reconnectDelay } as RedisClientOptions['socket'];
    // emitInvalidate is node-redis's hook for RESP3 invalidation pushes: it also sends a plain
    // CLIENT TRACKING ON at each handshake, which #enable switches to BCAST on the prefixes.
    this.#client = createClient({ ...node.options, socket, RESP: 3, emitInvalidate: true, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
    this.#client.on('invalidate', (key: unknown) => {
      if (!this.#tracking) return;
      if (key === null) tracker.listener.invalidateAll();
      else tracker.listener.invalidate(Buffer.isBuffer(key) ? key.toString('utf8') : String(key));
    });
    this.#client.on('ready', () => void this.#enable());
    this.#client.on('error', (error: unknown) => {
      const err = mapRedisError(error, node.id, 'HELLO 3');
      this.#report(err);
      this.#lost(err);
    });
    this.#client.on('end', () => this.#lost(new FinRiskCacheError('E_REDIS_UNAVAILABLE', `the tracking connection to ${node.id} ended`)));
  }

  get isTracking(): boolean {
    return this.#tracking;
  }

  start(): void {
    this.#client.connect().catch((error: unknown) => this.#lost(mapRedisError(error, this.node.id, 'connect')));
  }

  /** Switches the fresh connection to BCAST on the prefixes; only then does L1 hear every write. */
  async #enable(): Promise<void> {
    const prefixes = this.#tracker.options.prefixes.flatMap((p) => ['PREFIX', p]);
    try {
      await this.#bounded(async () => {
        await this.#client.sendCommand(['CLIENT', 'TRACKING', 'OFF']);
        await this.#client.sendCommand(['CLIENT', 'TRACKING', 'ON', 'BCAST', ...prefixes]);
        // The count every later look compares with: L1 starts empty, so a swap before it is moot.
        if (this.node.swappable) this.#swaps = swapdbCalls(String(await this.#client.sendCommand(['INFO', 'commandstats'])));
      }, 'CLIENT TRACKING ON BCAST');
      if (this.#closed) return;
      this.#tracking = true;
      this.#reported = false;
      this.#tracker.changed();
    } catch (error) {
      const err = mapRedisError(error, this.node.id, 'CLIENT TRACKING');
      this.#report(err);
      this.#lost(err);
    }
  }

  /** Reports why this node is not tracked, once until it is tracked again. */
  #report(err: FinRiskCacheError): void {
    if (this.#reported || this.#closed) return;
    this.#reported = true;
    this.#tracker.options.onError(
      new FinRiskCacheError(
        err.code,
        this.#tracker.options.purpose === undefined
          ? `L1 is not serving: the invalidation tracking connection to Redis at ${this.node.id} failed (${err.message}); ` +
              'L1 needs Redis 6 or later, RESP3 (HELLO), CLIENT TRACKING and INFO (to notice a SWAPDB), and serves again once tracking is back'
          : `${this.#tracker.options.purpose}: the invalidation tracking connection to Redis at ${this.node.id} failed (${err.message}); ` +
              'it needs Redis 6 or later, RESP3 (HELLO) and CLIENT TRACKING',
        { cause: err },
      ),
    );
  }

  #lost(reason: FinRiskCacheError): void {
    const was = this.#tracking;
    this.#tracking = false;
    if (was && !this.#closed) this.#tracker.changed(reason);
  }

  /**
   * A command under the deadline: the pushes before its reply have all arrived. False when it
   * failed. On a node where SWAPDB can swap the database, the command is `INFO commandstats`,
   * and a SWAPDB counted since the last look empties L1: Redis sends tracking clients no
   * invalidation for it (checked on 7.0: no push, no keyspace event), so without this L1 would
   * serve the other database's values until CACHE_L1_MAX_TTL. Elsewhere it is a PING.
   */
  async heartbeat(): Promise<boolean> {
    if (!this.#tracking) return true; // reconnecting: node-redis retries, #enable will report
    const command = this.node.swappable ? 'INFO commandstats' : 'PING';
    try {
      const reply = await this.#bounded(() => this.#client.sendCommand(this.node.swappable ? ['INFO', 'commandstats'] : ['PING']), command);
      if (this.node.swappable && this.#tracking) {
        const swaps = swapdbCalls(String(reply));
        if (swaps !== this.#swaps) {
          this.#swaps = swaps;
          this.#tracker.listener.invalidateAll();
        }
      }
      return true;
    } catch (error) {
      this.#lost(mapRedisError(error, this.node.id, command));
      return false;
    }
  }

  #bounded<T>(fn: () => Promise<T>, what: string): Promise<T> {
    const deadlineMs = this.#tracker.options.deadlineMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = afterDeadline(() => reject(new FinRiskCacheError('E_TIMEOUT', `Redis at ${this.node.id} did not answer ${what} within ${deadlineMs} ms`)), deadlineMs);
    });
    return Promise.race([fn(), expired]).finally(() => clearTimeout(timer));
  }

  /** Resolves once every invalidation the node sent before now has arrived (a PING's reply follows them); false when it failed. */
  sync(): Promise<boolean> {
    return this.heartbeat();
  }

  /** Drops the connection at once (no QUIT: a frozen server would hold it). */
  close(): void {
    this.#closed = true;
    this.#tracking = false;
    try {
      this.#client.destroy();
    } catch {
      // never connected
    }
  }
}

/**
 * Hears every change to the cache's keys, by any client, from Redis itself: CLIENT TRACKING in
 * BCAST mode on the key prefixes, over one RESP3 connection per node that takes writes (the
 * server, the master Sentinel names, every master of a cluster). Why this mechanism:
 *
 * - BCAST needs no read to go through the tracking connection, so the data path stays on its
 *   own connection (and its RESP2 replies) untouched, and a key that moves to another master
 *   of a cluster is still heard about there: every master broadcasts for the prefixes.
 * - node-redis's own `clientSideCache` caches only typed commands (not `sendCommand`, which the
 *   hot path uses), only the default type mapping, and structuredClones every hit.
 * - The price of BCAST: a process hears about every write under the prefixes, not only keys it
 *   holds (bench/l1.ts measures it against tracking in default mode).
 *
 * A node not tracked (connecting, reconnecting, a heartbeat PING past its deadline, a new master
 * after a failover) makes the listener `down`; all nodes tracked again makes it `up`.
 */
export class InvalidationTracker {
  readonly options: InvalidationTrackerOptions;
  readonly listener: TrackingListener;
  readonly #connections = new Map<string, TrackingConnection>();
  #timer: NodeJS.Timeout | undefined;
  #up = false;
  #closed = false;

  constructor(options: InvalidationTrackerOptions) {
    this.options = options;
    this.listener = options.listener;
  }

  /** Connects to every node and starts the heartbeat. */
  start(): void {
    this.refresh();
    this.#timer = setInterval(() => void this.#beat(), this.options.heartbeatMs);
    this.#timer.unref();
  }

  /** Re-reads the nodes (a failover, new masters) and opens or drops connections to match. */
  refresh(): void {
    if (this.#closed) return;
    let nodes: TrackingNode[];
    try {
      nodes = this.options.nodes();
    } catch {
      nodes = [];
    }
    const wanted = new Set(nodes.map((n) => n.id));
    let changed = false;
    for (const [id, connection] of this.#connections) {
      if (!wanted.has(id)) {
        connection.close();
        this.#connections.delete(id);
        changed = true;
      }
    }
    for (const node of nodes) {
      if (this.#connections.has(node.id)) continue;
      const connection = new TrackingConnection(node, this);
      this.#connections.set(node.id, connection);
      connection.start();
      changed = true;
    }
    if (changed) this.changed(new FinRiskCacheError('E_REDIS_UNAVAILABLE', 'the nodes to track changed'));
  }

  /** Re-evaluates whether every node is tracked, and tells the listener when that flips. */
  changed(reason?: FinRiskCacheError): void {
    if (this.#closed) return;
    const up = this.#connections.size > 0 && [...this.#connections.values()].every((c) => c.isTracking);
    if (up && !this.#up) {
      this.#up = true;
      this.listener.up();
    } else if (!up && this.#up) {
      this.#up = false;
      this.listener.down(reason ?? new FinRiskCacheError('E_REDIS_UNAVAILABLE', 'a tracking connection was lost'));
    } else if (!up && reason) {
      // Still down, or a node was swapped while down: nothing served, nothing to do.
    } else if (up && reason) {
      // A swap that left every node tracked (a new connection came up before this call): what
      // was held may have missed writes on the new node; start over.
      this.listener.down(reason);
      this.listener.up();
    }
  }

  /** True while every node is tracked. */
  get isUp(): boolean {
    return this.#up;
  }

  async #beat(): Promise<void> {
    this.refresh();
    const results = await Promise.all([...this.#connections.values()].map(async (c) => ({ c, ok: await c.heartbeat() })));
    for (const { c, ok } of results) {
      if (ok || this.#closed) continue;
      // A connection whose server stopped answering: node-redis would wait forever; replace it.
      c.close();
      this.#connections.delete(c.node.id);
      this.options.onError(new FinRiskCacheError('E_TIMEOUT', `the L1 tracking connection to ${c.node.id} stopped answering; L1 serves nothing until it is back`));
    }
    if (results.some((r) => !r.ok)) this.refresh();
  }

  /**
   * Resolves once every invalidation that the tracked nodes sent before this call has been
   * applied (a PING on each tracking connection: its reply comes after them on the same socket).
   * True when every node answered; false when tracking is not established (L1 serves nothing then).
   */
  async sync(): Promise<boolean> {
    if (!this.#up) return false;
    const results = await Promise.all([...this.#connections.values()].map((c) => c.sync()));
    return this.#up && results.every(Boolean);
  }

  /** Stops hearing: drops every connection at once (bounded: nothing is awaited). */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const connection of this.#connections.values()) connection.close();
    this.#connections.clear();
    if (this.#up) {
      this.#up = false;
      this.listener.down(new FinRiskCacheError('E_CLOSED', 'the cache was closed'));
    }
  }
}
