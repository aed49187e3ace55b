import { resolve } from 'node:path';
import { createCache, describeRedisAddress, resolveConfig, type Cache, type CacheConfig, type CacheOptions, type CreateCacheOptions } from '@finrisk/cache-core';
import type { CliIo } from './cli-io.js';
import { cacheOptionsFromFlags, type GlobalOptions } from './global-options.js';
import { Output } from './output/output.js';

/** What a command runs with: io, output, the global flags and a cache opened on first use. */
export class CommandContext {
  readonly io: CliIo;
  readonly out: Output;
  readonly flags: GlobalOptions;
  #caches: Cache[] = [];

  constructor(io: CliIo, flags: GlobalOptions) {
    this.io = io;
    this.flags = flags;
    this.out = new Output(io, { json: flags.json === true });
  }

  /** The cache options from flags, environment and `.env`, without the CLI's own additions. */
  cacheOptions(): CacheOptions {
    return cacheOptionsFromFlags(this.flags, this.io.env, this.io.cwd);
  }

  /** The resolved configuration; throws E_INVALID_CONFIG naming a bad variable. */
  config(): CacheConfig {
    return resolveConfig(this.cacheOptions());
  }

  /**
   * A cache in strict mode, so that backend failures reach the command (and its exit status)
   * instead of reading as misses. Its fallback warning goes to stderr once; with `--debug` its
   * error events do too. Closed by {@link CommandContext.close}.
   */
  cache(overrides: Partial<CreateCacheOptions> = {}): Cache {
    const debug = this.flags.debug === true;
    const strip = (message: string) => message.replace(/^finrisk-cache: /, '');
    let fallbackWarning: string | undefined;
    const cache = createCache({
      ...this.cacheOptions(),
      strict: true,
      // A command lives a moment: its counters say nothing about the fleet, and it has no use for L1.
      statsPublish: false,
      l1: { maxMb: 0 },
      logger: {
        // The fallback warning is reworded once the reason is known (the `degraded` event below).
        warn: (message) => (cache.isFallback || /caching in/.test(message) ? (fallbackWarning = message) : this.out.warn(strip(message))),
        ...(debug ? { error: (message: string) => this.out.warn(strip(message)) } : {}),
      },
      ...overrides,
    });
    cache.on('degraded', ({ error }) => {
      if (fallbackWarning === undefined) return;
      const original = fallbackWarning;
      fallbackWarning = undefined;
      const store = cache.store;
      if (!cache.isFallback || store?.backend !== 'local') return this.out.warn(strip(original));
      this.out.warn(
        `Redis at ${describeRedisAddress(cache.config)} is not reachable (${rootMessage(error)}); ` +
          `using the embedded store at ${store.location}. Set CACHE_BACKEND=local to make that the choice, or REDIS_URL to use Redis.`,
      );
    });
    this.#caches.push(cache);
    return cache;
  }

  /** A path from the command line, resolved against the working directory. */
  resolvePath(path: string): string {
    return resolve(this.io.cwd, path);
  }

  /** Closes every cache this context opened. */
  async close(): Promise<void> {
    await Promise.all(this.#caches.map((c) => c.close().catch(() => undefined)));
    this.#caches = [];
  }
}

/** The innermost message of an error chain: `connect ECONNREFUSED 127.0.0.1:6379` rather than its wrappers. */
export function rootMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error && current.cause instanceof Error; depth++) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
