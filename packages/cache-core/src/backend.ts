import type { CacheLogger } from './cache-types.js';
import { describeRedisAddress, type CacheConfig } from './config.js';
import { FinRiskCacheError, toCacheError } from './errors.js';
import type { Health } from './health.js';
import { LocalStore } from './stores/local-store.js';
import { MemoryStore } from './stores/memory-store.js';
import { createRedisStore } from './stores/redis-cluster-store.js';
import type { RedisStore } from './stores/redis-store.js';
import type { CacheStore } from './stores/store.js';

/**
 * Which store serves a cache, opened on first use: the injected one, or the configured backend;
 * with `auto`, Redis when it answers within `connectTimeoutMs`, else the embedded store (else
 * memory), said once through the logger. Connection changes of Redis feed {@link Health}.
 */
export class Backend {
  readonly #config: CacheConfig;
  readonly #injected: CacheStore | undefined;
  readonly #logger: CacheLogger;
  readonly #health: Health;
  #store: CacheStore | undefined;
  #resolving: Promise<CacheStore> | undefined;
  #closed = false;

  readonly #resolved: ((store: CacheStore) => void) | undefined;

  /** @param resolved called once with the store in use, when it is known */
  constructor(config: CacheConfig, health: Health, logger: CacheLogger, injected?: CacheStore, resolved?: (store: CacheStore) => void) {
    this.#config = config;
    this.#health = health;
    this.#logger = logger;
    this.#injected = injected;
    this.#resolved = resolved;
  }

  /** The store in use, once resolved. */
  get store(): CacheStore | undefined {
    return this.#store;
  }

  /** Resolves the store (connecting if needed); throws E_CLOSED after {@link Backend.close}. */
  connect(): Promise<CacheStore> {
    if (this.#closed) return Promise.reject(new FinRiskCacheError('E_CLOSED', 'this cache was closed; create a new one'));
    if (this.#store) return Promise.resolve(this.#store);
    this.#resolving ??= this.#resolve()
      .then((store) => {
        this.#resolved?.(store);
        return store;
      })
      .finally(() => {
        this.#resolving = undefined;
      });
    return this.#resolving;
  }

  async #resolve(): Promise<CacheStore> {
    const config = this.#config;
    if (this.#injected) {
      await this.#injected.connect();
      return (this.#store = this.#injected);
    }
    switch (config.backend) {
      case 'memory':
        return (this.#store = await opened(new MemoryStore()));
      case 'local':
        return (this.#store = await opened(new LocalStore({ path: config.localPath })));
      case 'redis': {
        const store = this.#watch(createRedisStore(config));
        try {
          // Wait briefly so that the first call finds the connection up; after that, fail fast.
          await store.connect(Math.max(config.commandTimeoutMs, Math.min(config.connectTimeoutMs, 1000)));
        } catch (error) {
          this.#health.degrade(toCacheError(error, 'E_REDIS_UNAVAILABLE', 'connecting to Redis'));
        }
        // Published only now: calls made meanwhile wait for this same connect (a cluster client
        // rejects commands until it knows the slot map, where one server would queue them).
        return (this.#store = store);
      }
      case 'auto': {
        const redis = createRedisStore(config);
        try {
          await redis.connect(config.connectTimeoutMs);
          this.#store = this.#watch(redis);
          return redis;
        } catch (error) {
          await redis.close();
          return this.#fallBack(toCacheError(error, 'E_REDIS_UNAVAILABLE', 'connecting to Redis'));
        }
      }
    }
  }

  async #fallBack(reason: FinRiskCacheError): Promise<CacheStore> {
    const address = describeRedisAddress(this.#config);
    let store: CacheStore = new LocalStore({ path: this.#config.localPath });
    let where = `the local store at ${this.#config.localPath}`;
    try {
      await store.connect();
    } catch (error) {
      store = await opened(new MemoryStore());
      where = `memory only (the local store failed: ${(error as Error).message})`;
    }
    this.#store = store;
    this.#logger.warn(
      `finrisk-cache: Redis at ${address} is not reachable (${reason.message}); caching in ${where}. ` +
        'Set REDIS_URL or REDIS_HOST/REDIS_PORT to use Redis, or CACHE_BACKEND=local to silence this warning.',
    );
    this.#health.fellBack(reason);
    return store;
  }

  #watch(store: RedisStore): RedisStore {
    store.onConnectionChange((event) => {
      if (event.type === 'down') this.#health.degrade(event.error);
      else this.#health.recover();
    });
    return store;
  }

  /** Closes the store (each store bounds its own close). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const store = this.#store ?? (await this.#resolving?.catch(() => undefined));
    this.#store = undefined;
    await store?.close();
  }
}

async function opened<S extends CacheStore>(store: S): Promise<S> {
  await store.connect();
  return store;
}
