import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  createClient,
  createSentinel,
  ErrorReply,
  RESP_TYPES,
  type RedisArgument,
  type RedisClientOptions,
} from '@redis/client';
import type { CacheConfig } from '../config.js';
import { describeRedisAddress } from '../config.js';
import { FinRiskCacheError } from '../errors.js';
import { escapeGlob } from '../keys.js';
import { STORE_CAPABILITIES, type StoreCapabilities } from './capabilities.js';
import { afterDeadline, settlesWithin, withDeadline } from './deadline.js';
import type { HashFieldWrite, HashReadResult, HashStore, HashWriteOptions } from './hash-store.js';
import { RedisHashes } from './redis-hash.js';
import { reconnectDelay } from './reconnect.js';
import { mapRedisError } from './redis-errors.js';
import type { CacheStore, StoreCallOptions, StoreEntry, StoreInfo, StoreSetOptions } from './store.js';
import type { TrackingNode } from './tracking-node.js';

/** The node-redis client type this store uses. */
export type RedisClient = ReturnType<typeof createClient>;

/** The raw command entry of a node-redis client (or, with a leading isReadonly flag, of a sentinel client). */
interface SendCommand {
  sendCommand(args: RedisArgument[]): Promise<unknown>;
  sendCommand(readonly: boolean, args: RedisArgument[]): Promise<unknown>;
}

/** Connection state changes a store reports to the cache above it. */
export type ConnectionListener = (event: { type: 'ready' } | { type: 'down'; error: FinRiskCacheError }) => void;

/** A plain SET's reply: OK when stored; null when NX found the key. A function of its own, not a closure per call. */
const isStored = (reply: unknown): boolean => reply !== null;

// Compare-and-delete, so that a lock is only released by its owner.
const DELETE_IF_EQUALS = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * Builds node-redis options from the cache configuration (TLS files are read here). With a
 * `signal`, aborting it destroys every socket made with these options, one still in its
 * handshake included, and stops reconnection: a frozen server never answers the handshake, so
 * `destroy()` of a client alone cannot end such a socket when node-redis holds it out of reach
 * (a sentinel's master connection, a cluster's discovery connection).
 */
export function redisClientOptions(config: CacheConfig, signal?: AbortSignal): RedisClientOptions {
  const tls = config.tls;
  const readPem = (path: string | undefined, what: string) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new FinRiskCacheError('E_INVALID_CONFIG', `cannot read the TLS ${what} file ${path}: ${(error as Error).message}`, { cause: error });
    }
  };
  const socket: Record<string, unknown> = {
    connectTimeout: config.connectTimeoutMs,
    reconnectStrategy: signal ? (retries: number) => (signal.aborted ? false : reconnectDelay(retries)) : reconnectDelay,
  };
  if (signal) socket.signal = signal;
  if (!config.url) {
    socket.host = config.host;
    socket.port = config.port;
  }
  if (tls) {
    socket.tls = true;
    const ca = readPem(tls.caFile, 'CA');
    const cert = readPem(tls.certFile, 'certificate');
    const key = readPem(tls.keyFile, 'key');
    if (ca) socket.ca = ca;
    if (cert) socket.cert = cert;
    if (key) socket.key = key;
    if (tls.servername) socket.servername = tls.servername;
  }
  const options: RedisClientOptions = {
    socket: socket as RedisClientOptions['socket'],
    // A cache must fail fast while Redis is away: no queue of commands waiting for a reconnect.
    disableOfflineQueue: true,
    // No node-redis command timeout: it costs an AbortSignal (and a DOMException) per command and
    // only covers commands not yet written. RedisStore enforces its own deadline on every call.
    commandOptions: { timeout: 0 },
  };
  if (config.url) options.url = config.url;
  else options.database = config.db;
  if (config.username) options.username = config.username;
  if (config.password) options.password = config.password;
  return options;
}

/**
 * A store on Redis through node-redis 6: one server, or the master a Sentinel group names (the
 * sentinel client has the same command API and follows failovers). {@link RedisClusterStore}
 * extends it for Redis Cluster.
 */
export class RedisStore implements CacheStore, HashStore {
  readonly backend = 'redis' as const;
  readonly location: string;
  /** The node-redis client (a sentinel client when Sentinel is configured). */
  readonly client: RedisClient;
  /** The same client, answering bulk strings as Buffers. */
  protected readonly bytes: RedisClient;
  #connecting: Promise<void> | undefined;
  #listeners = new Set<ConnectionListener>();
  #closed = false;
  #lastError: FinRiskCacheError | undefined;
  readonly #timeoutMs: number;
  readonly #scanTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #sentinel: boolean;
  readonly #config: CacheConfig;
  /** Aborted by close: destroys every socket of this store and stops its reconnection. */
  readonly #teardown: AbortController;
  /** What the cache may use beyond the store contract: the connection's state, L1 tracking, fleet statistics. */
  readonly [STORE_CAPABILITIES]: StoreCapabilities = { connection: this, tracking: this, fleet: this, masterCount: () => this.masterCount };

  /**
   * @param client a client to use instead of one built from `config` (its sockets are ended by
   *   `destroy()` only, unless they were made with `teardown`'s signal).
   * @param teardown aborted by {@link RedisStore.close}; pass the one whose signal `client`'s
   *   socket options carry (see {@link redisClientOptions}).
   */
  constructor(config: CacheConfig, client?: RedisClient, teardown = new AbortController()) {
    this.#config = config;
    this.location = describeRedisAddress(config);
    this.#timeoutMs = config.commandTimeoutMs;
    this.#scanTimeoutMs = Math.max(config.scanTimeoutMs, config.commandTimeoutMs);
    this.#closeTimeoutMs = config.closeTimeoutMs;
    this.#connectTimeoutMs = config.connectTimeoutMs;
    this.#sentinel = client === undefined && Boolean(config.sentinels);
    this.#teardown = teardown;
    // One listener per socket, and a cluster holds more than ten: not a leak.
    setMaxListeners(0, teardown.signal);
    this.client = client ?? createRedisClient(config, teardown.signal);
    this.bytes = this.client.withCommandOptions({
      typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer },
      timeout: 0,
    }) as unknown as RedisClient;
    this.client.on('error', (error: unknown) => this.notifyDown(error));
    this.client.on('ready', () => this.notifyReady());
  }

  /** Tells listeners that the connection failed. */
  protected notifyDown(error: unknown): void {
    const mapped = mapRedisError(error, this.location, 'connect');
    this.#lastError = mapped;
    for (const listener of this.#listeners) listener({ type: 'down', error: mapped });
  }

  /** Tells listeners that the connection is up again. */
  protected notifyReady(): void {
    this.#lastError = undefined;
    for (const listener of this.#listeners) listener({ type: 'ready' });
  }

  /** Subscribes to connection changes; returns the unsubscribe function. */
  onConnectionChange(listener: ConnectionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** True while the connection is up and authenticated. */
  get isReady(): boolean {
    return this.client.isReady;
  }

  /** How many servers the keys are spread over: one. */
  get masterCount(): number {
    return 1;
  }

  /** The last connection error, while the connection is down. */
  get lastError(): FinRiskCacheError | undefined {
    return this.#lastError;
  }

  /**
   * Starts connecting (and reconnecting, forever, with backoff) and waits for the first
   * successful connection at most `timeoutMs`. Rejects with E_REDIS_UNAVAILABLE after that,
   * while reconnection goes on in the background (until {@link RedisStore.close}).
   * @param timeoutMs @default `connectTimeoutMs` of the configuration
   */
  async connect(timeoutMs = this.#connectTimeoutMs): Promise<void> {
    if (this.#closed) throw new FinRiskCacheError('E_CLOSED', 'the Redis store was closed');
    if (this.client.isReady) return;
    this.#connecting ??= (this.client.connect() as Promise<unknown>).then(
      () => undefined,
      (error: unknown) => {
        this.#connecting = undefined;
        throw mapRedisError(error, this.location, 'connect');
      },
    );
    let timer: NodeJS.Timeout | undefined;
    let onError: ((error: unknown) => void) | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = afterDeadline(() => {
        // Kept as the reason until the connection is up: "the client is offline" is what the
        // calls would say otherwise, and a server that accepts and never answers (frozen, or a
        // black-holed path) has no error of its own to offer.
        this.#lastError ??= new FinRiskCacheError(
          'E_REDIS_UNAVAILABLE',
          `Redis at ${this.location} did not answer a new connection within ${timeoutMs} ms (not reachable, or not answering)`,
        );
        reject(this.#lastError);
      }, timeoutMs);
      // A refused connection is an answer: do not wait for the timeout (reconnection goes on).
      onError = (error: unknown) => reject(mapRedisError(error, this.location, 'connect'));
      this.client.on('error', onError);
    });
    // The connect promise may reject after the timeout won: nobody waits for it then.
    this.#connecting.catch(() => undefined);
    try {
      await Promise.race([this.#connecting, failed]);
    } finally {
      clearTimeout(timer);
      if (onError) this.client.off('error', onError);
    }
  }

  /**
   * Runs a command with a deadline. node-redis's own timeout only covers commands not yet
   * written; a written command waits for its reply forever (a frozen server would hang the
   * caller), so the deadline is enforced here. Writes get 1 ms more per 64 KiB they carry.
   */
  protected run<T>(command: string, fn: () => Promise<T>, payloadBytes = 0, minimumMs: number | undefined = 0): Promise<T> {
    if (this.#closed) return Promise.reject(new FinRiskCacheError('E_CLOSED', 'the Redis store was closed'));
    const limitMs = Math.max(this.#timeoutMs + (payloadBytes >> 16), minimumMs ?? 0);
    // One promise and one timer per command: this is the hot path of every cache call. The
    // deadline fires after the socket is read (afterDeadline): a reply already there wins.
    return new Promise<T>((resolve, reject) => {
      const timer = afterDeadline(() => {
        reject(
          new FinRiskCacheError(
            'E_TIMEOUT',
            `Redis at ${this.location} did not answer ${command} within ${limitMs} ms; raise CACHE_COMMAND_TIMEOUT_MS if the server is just slow`,
          ),
        );
      }, limitMs);
      let op: Promise<T>;
      try {
        op = fn();
      } catch (error) {
        clearTimeout(timer);
        reject(mapRedisError(error, this.location, command));
        return;
      }
      // After the deadline the command may still settle; the outcome is dropped (reject/resolve are no-ops then).
      op.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(mapRedisError(error, this.location, command));
        },
      );
    });
  }

  /**
   * Sends one command as it is, bulk strings answered as Buffers. The hot commands (GET, MGET,
   * SET, GETEX) go through here rather than node-redis's typed command methods: those build a
   * parser object and transform the reply on every call, and on a withCommandOptions view (which
   * the Buffer replies need) they measured 2.5x the client CPU of sendCommand with 100 calls in
   * flight. Tracing and metrics of node-redis still see the command (they live in sendCommand).
   * `firstKey` routes it on a cluster; `readonly` lets Sentinel use a replica pool if configured.
   */
  protected send<T>(args: RedisArgument[], firstKey: string, readonly: boolean): Promise<T> {
    const client = this.bytes as unknown as SendCommand;
    return (this.#sentinel ? client.sendCommand(readonly, args) : client.sendCommand(args)) as Promise<T>;
  }

  get(key: string): Promise<Uint8Array | null> {
    return this.run('GET', () => this.send<Buffer | null>(['GET', key], key, true));
  }

  getMany(keys: readonly string[], options?: StoreCallOptions): Promise<(Uint8Array | null)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.run('MGET', () => this.getManyRaw(keys), 0, options?.timeoutMs);
  }

  getAndTouch(key: string, ttlMs: number): Promise<Uint8Array | null> {
    return this.run('GETEX', () => this.send<Buffer | null>(['GETEX', key, 'PX', String(ttlMs)], key, false));
  }

  set(key: string, value: Uint8Array, options: StoreSetOptions = {}): Promise<boolean> {
    const args: RedisArgument[] = ['SET', key, toBuffer(value)];
    if (options.ttlMs !== undefined) args.push('PX', String(options.ttlMs));
    if (options.ifAbsent) args.push('NX');
    return this.run('SET', () => this.send<unknown>(args, key, false).then(isStored), value.byteLength);
  }

  setMany(entries: readonly StoreEntry[], options?: StoreCallOptions): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.run('SET (pipeline)', async () => {
      const multi = this.client.multi();
      for (const e of entries) {
        if (e.ttlMs === undefined) multi.set(e.key, toBuffer(e.value));
        else multi.set(e.key, toBuffer(e.value), { expiration: { type: 'PX', value: e.ttlMs } });
      }
      await multi.execAsPipeline();
    }, entries.reduce((sum, e) => sum + e.value.byteLength, 0), options?.timeoutMs);
  }

  exists(key: string): Promise<boolean> {
    return this.run('EXISTS', async () => (await this.client.exists(key)) === 1);
  }

  delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return Promise.resolve(0);
    return this.run('UNLINK', () => this.client.unlink([...keys]));
  }

  deleteIfEquals(key: string, value: Uint8Array): Promise<boolean> {
    return this.run('EVAL', async () => {
      const deleted = await this.client.eval(DELETE_IF_EQUALS, { keys: [key], arguments: [toBuffer(value)] });
      return deleted === 1;
    });
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    return this.run('PEXPIRE', async () => Boolean(await this.client.pExpire(key, ttlMs)));
  }

  ttl(key: string): Promise<number> {
    return this.run('PTTL', () => this.client.pTTL(key));
  }

  incr(key: string): Promise<number> {
    return this.run('INCR', () => this.client.incr(key));
  }

  async *scan(prefix: string, batchSize = 1000): AsyncIterable<string[]> {
    yield* this.scanNode(this.client, prefix, batchSize, this.location);
  }

  /** Every key of `prefix` on one node, in batches, each SCAN page under the scan deadline. */
  protected async *scanNode(client: RedisClient, prefix: string, batchSize: number, location: string): AsyncIterable<string[]> {
    const match = `${escapeGlob(prefix)}*`;
    let cursor = '0';
    do {
      const page = await this.withScanDeadline('SCAN', location, () => client.scan(cursor, { MATCH: match, COUNT: batchSize }));
      cursor = String(page.cursor);
      if (page.keys.length) yield page.keys as string[];
    } while (cursor !== '0');
  }

  /** Each SCAN page under the scan deadline, each UNLINK of a page under the command deadline (a delete like any other). */
  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    for await (const keys of this.scan(prefix)) deleted += await this.delete(keys);
    return deleted;
  }

  /**
   * Runs one step of a scan (a SCAN page, finding a cluster node to scan) under the scan
   * deadline, `scanTimeoutMs` (at least `commandTimeoutMs`). Without it a frozen server would
   * hold the scan forever: node-redis's scan iterator has no deadline of its own.
   */
  protected withScanDeadline<T>(command: string, location: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new FinRiskCacheError('E_CLOSED', 'the Redis store was closed'));
    const limitMs = this.#scanTimeoutMs;
    let work: Promise<T>;
    try {
      work = fn();
    } catch (error) {
      return Promise.reject(mapRedisError(error, location, command));
    }
    const timedOut = () =>
      new FinRiskCacheError(
        'E_TIMEOUT',
        `Redis at ${location} did not answer ${command} within ${limitMs} ms; raise CACHE_SCAN_TIMEOUT_MS if the server is just slow`,
      );
    return withDeadline(work, limitMs, timedOut).catch((error: unknown) => {
      throw mapRedisError(error, location, command);
    });
  }

  /** The deadline of one command, in ms (`commandTimeoutMs`). */
  protected get commandTimeoutMs(): number {
    return this.#timeoutMs;
  }

  ping(): Promise<number> {
    return this.run('PING', async () => {
      const start = performance.now();
      await this.client.ping();
      return performance.now() - start;
    });
  }

  info(): Promise<StoreInfo> {
    return this.run('INFO', async () => {
      const [text, keys] = await Promise.all([this.client.info(), this.client.dbSize()]);
      return parseInfo(text, keys);
    });
  }

  /**
   * The nodes whose writes an L1 tier must hear about: this server, or the master the sentinels
   * name now (none while they name none).
   */
  trackingNodes(): TrackingNode[] {
    if (!this.#sentinel) return [{ id: this.location, options: redisClientOptions(this.#config), swappable: true }];
    const master = (this.client as unknown as { getMasterNode(): { host: string; port: number } | undefined }).getMasterNode();
    if (!master) return [];
    const { socket, ...rest } = sentinelNodeClientOptions(this.#config);
    return [{ id: `${master.host}:${master.port}`, options: { ...rest, socket: { ...socket, host: master.host, port: master.port } as RedisClientOptions['socket'] }, swappable: true }];
  }

  /** Calls `listener` when the nodes to track may have changed (a Sentinel failover). */
  onTopologyChange(listener: () => void): void {
    if (!this.#sentinel) return;
    (this.client as unknown as { on(event: 'topology-change', fn: (event: { type: string }) => void): void }).on('topology-change', (event) => {
      if (event.type === 'MASTER_CHANGE') listener();
    });
  }

  /**
   * Reads values with their remaining time to live, in one round trip: MGET and a PTTL per key,
   * written together. A write between the two is heard by the L1 tier as an invalidation, which
   * drops the read; otherwise the TTL belongs to the value read. PTTL answers -1 for no expiry.
   */
  getManyWithTtl(keys: readonly string[]): Promise<{ values: (Uint8Array | null)[]; pttls: number[] }> {
    if (keys.length === 0) return Promise.resolve({ values: [], pttls: [] });
    return this.run('MGET+PTTL', async () => {
      const [values, ...pttls] = await Promise.all([
        keys.length === 1
          ? this.send<Buffer | null>(['GET', keys[0]!], keys[0]!, true).then((v) => [v])
          : this.getManyRaw(keys),
        ...keys.map((k) => this.send<number>(['PTTL', k], k, true)),
      ]);
      return { values: values as (Uint8Array | null)[], pttls: pttls as number[] };
    });
  }

  /**
   * Adds `member` to the sorted set `index` with `score`, drops the members scored below
   * `dropBelow`, and sets the set's time to live (ms): an index of keys that expire, kept as
   * small as the live keys (fleet statistics). One round trip, each command under the deadline.
   */
  indexAdd(index: string, member: string, score: number, dropBelow: number, ttlMs: number): Promise<void> {
    return this.run('ZADD', async () => {
      await Promise.all([
        this.client.zAdd(index, { score, value: member }),
        this.client.zRemRangeByScore(index, '-inf', `(${dropBelow}`),
        this.client.pExpire(index, ttlMs),
      ]);
    });
  }

  /** The members of the sorted set `index` scored at least `minScore`, lowest scores first, at most `limit` (ZRANGEBYSCORE ... LIMIT). */
  indexMembers(index: string, minScore: number, limit: number): Promise<string[]> {
    return this.run('ZRANGEBYSCORE', () => this.client.zRangeByScore(index, minScore, '+inf', { LIMIT: { offset: 0, count: limit } }) as Promise<string[]>);
  }

  /**
   * The first `maxBytes + 1` bytes of each key's value (one GETRANGE per key, written together):
   * a value longer than `maxBytes` comes back cut, so that a caller can tell it is too large
   * without ever holding it. null for a missing key (GETRANGE answers an empty string), undefined
   * for a key that holds no string (WRONGTYPE): what another process wrote, not a failure.
   */
  getManyBounded(keys: readonly string[], maxBytes: number): Promise<(Uint8Array | null | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    const end = String(maxBytes);
    return this.run('GETRANGE', () =>
      Promise.all(
        keys.map((key) =>
          this.send<Buffer>(['GETRANGE', key, '0', end], key, true).then(
            (value) => (value.byteLength > 0 ? value : null),
            (error: unknown) => {
              if (error instanceof ErrorReply && error.message.startsWith('WRONGTYPE')) return undefined;
              throw error;
            },
          ),
        ),
      ),
    );
  }

  /** MGET of `keys` without a deadline of its own (the caller's run has one). */
  protected getManyRaw(keys: readonly string[]): Promise<(Buffer | null)[]> {
    return this.send<(Buffer | null)[]>(['MGET', ...keys], keys[0]!, true);
  }

  // ---------------------------------------------------------------- hashes (redis-hash.ts)

  #hashes: RedisHashes | undefined;
  get #hashOps(): RedisHashes {
    return (this.#hashes ??= new RedisHashes((args, key, readonly) => this.send(args, key, readonly)));
  }

  hasFieldExpiry(): Promise<boolean> {
    return this.run('COMMAND INFO', () => this.#hashOps.hasFieldExpiry('0'));
  }

  hashWrite(key: string, fields: readonly HashFieldWrite[], options?: HashWriteOptions): Promise<boolean> {
    return this.run('EVAL (hash write)', () => this.#hashOps.write(key, fields, options), fields.reduce((sum, f) => sum + f.value.byteLength, 0));
  }

  hashRead(keys: readonly string[], fields?: readonly string[]): Promise<HashReadResult[]> {
    return this.run(fields ? 'HMGET' : 'HGETALL', () => this.#hashOps.read(keys, fields));
  }

  hashDelete(key: string, fields: readonly string[]): Promise<number> {
    return this.run('HDEL', () => this.#hashOps.delete(key, fields));
  }

  jsonMerge(key: string, patch: Uint8Array, options: { ttlMs?: number | undefined } = {}): Promise<void> {
    return this.run('EVAL (json merge)', () => this.#hashOps.jsonMerge(key, patch, options.ttlMs), patch.byteLength);
  }

  /** True once {@link RedisStore.close} was called. */
  protected get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Waits up to `closeTimeoutMs` for replies still in flight, then drops the connection. node-redis's
   * own close waits for every pending reply, and a frozen server sends none: it never returned.
   * Safe to call twice; ends within about 2 × `closeTimeoutMs` whatever the server does.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    const client = this.client as unknown as { isOpen: boolean; isReady: boolean; close(): Promise<void>; destroy(): void | Promise<void> };
    // A client that is not ready has nothing in flight worth waiting for: at most its handshake,
    // which a frozen server never answers.
    if (client.isOpen && client.isReady && this.#closeTimeoutMs > 0) {
      let graceful: Promise<void> | undefined;
      try {
        graceful = client.close();
      } catch {
        // already closing
      }
      if (graceful && (await settlesWithin(graceful, this.#closeTimeoutMs))) {
        this.#teardown.abort(); // anything node-redis opened on the side (a cluster's discovery connection)
        return;
      }
    }
    this.#teardown.abort();
    try {
      // A sentinel client's destroy waits for its connect attempt, which the abort above ends.
      const destroyed = client.destroy();
      if (destroyed instanceof Promise) await settlesWithin(destroyed, this.#closeTimeoutMs);
    } catch {
      // not open: nothing to release
    }
  }
}

/** Options of a connection to one node of a Sentinel group: the sentinels say where it is, so no host or port. */
function sentinelNodeClientOptions(config: CacheConfig, signal?: AbortSignal): RedisClientOptions {
  const { socket, password, username } = redisClientOptions(config, signal);
  const { host: _host, port: _port, ...nodeSocket } = (socket ?? {}) as Record<string, unknown>;
  return {
    socket: nodeSocket as RedisClientOptions['socket'],
    database: config.db,
    ...(password ? { password } : {}),
    ...(username ? { username } : {}),
  };
}

/**
 * Creates the node-redis client for the configuration: a sentinel client when sentinels are set.
 * `signal` ends every socket of the client when aborted (see {@link redisClientOptions}).
 */
export function createRedisClient(config: CacheConfig, signal?: AbortSignal): RedisClient {
  const options = redisClientOptions(config, signal);
  if (config.sentinels) {
    const { commandOptions } = options;
    const nodeClientOptions = sentinelNodeClientOptions(config, signal);
    const { reconnectStrategy } = (options.socket ?? {}) as Record<string, unknown>;
    return createSentinel({
      name: config.sentinelMaster!,
      sentinelRootNodes: config.sentinels,
      nodeClientOptions: nodeClientOptions as never,
      sentinelClientOptions: {
        socket: { connectTimeout: config.connectTimeoutMs, reconnectStrategy, ...(signal ? { signal } : {}) },
      } as never,
      passthroughClientErrorEvents: true,
      commandOptions,
    } as never) as unknown as RedisClient;
  }
  return createClient(options);
}

/**
 * The server's own name and version. Valkey answers `redis_version:7.2.4` (the Redis it forked
 * from, kept for clients that gate features on it) and its real version in `valkey_version`, so it
 * reads as `valkey 8.0.1`, the way the embedded engines name themselves (`sqlite 3.46.1`); Redis
 * stays a bare version, as before.
 */
function serverVersion(fields: Map<string, string>): string {
  const valkey = fields.get('valkey_version');
  if (valkey !== undefined) return `valkey ${valkey}`;
  const redis = fields.get('redis_version') ?? 'unknown';
  const name = fields.get('server_name');
  return name !== undefined && name !== 'redis' ? `${name} ${redis}` : redis;
}

function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Parses the text of `INFO` into {@link StoreInfo}. */
export function parseInfo(text: string, keys: number): StoreInfo {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  const num = (name: string) => Number(fields.get(name) ?? 0) || 0;
  return {
    version: serverVersion(fields),
    connectedClients: num('connected_clients'),
    usedMemoryBytes: num('used_memory'),
    totalCommandsProcessed: num('total_commands_processed'),
    keyspaceHits: num('keyspace_hits'),
    keyspaceMisses: num('keyspace_misses'),
    maxMemoryBytes: num('maxmemory'),
    maxMemoryPolicy: fields.get('maxmemory_policy') ?? 'unknown',
    evictedKeys: num('evicted_keys'),
    expiredKeys: num('expired_keys'),
    keys,
  };
}
