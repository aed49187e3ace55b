import { randomBytes } from 'node:crypto';
import type { Cache, KeyPrefix, KeyWatch } from '@finrisk/cache-core';
import type { MlKeys } from './ml-keys.js';

/** A new generation token: random, so that two processes invalidating at once never agree by accident. */
export function newGenerationToken(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * What {@link newGenerationToken} makes (16 base64url characters), with room for a longer one
 * from a later release. Anything else under a token key was written by someone else: it is never
 * used as a token (it was copied into every prediction written under it: 64 KiB each).
 */
const TOKEN_RE = /^[A-Za-z0-9_-]{16,64}$/;

/** True for a value that may be a generation token this SDK wrote. */
export function isGenerationToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_RE.test(value);
}

/**
 * Generation tokens of model types (`finrisk` layout). Every prediction is written with the token
 * of its model type, and a read fetches the token and the prediction in one MGET: a prediction
 * written under another token is a miss. Invalidating a model's predictions is one SET of a new
 * token, whatever the size of the keyspace; the old predictions expire by their TTL.
 *
 * A missing token is never a match, so a prediction can never outlive its token being evicted.
 */
export class GenerationTracker {
  readonly #cache: Cache;
  readonly #keys: MlKeys;
  readonly #refreshMs: number;
  readonly #seen = new Map<string, { token: string; at: number }>();

  constructor(cache: Cache, keys: MlKeys, refreshMs: number) {
    this.#cache = cache;
    this.#keys = keys;
    this.#refreshMs = refreshMs;
  }

  /**
   * Remembers a token a read came across (a read always sees the current one). A read that found
   * none (the token vanished: FLUSHALL, DEL, eviction) makes the next write read it again or
   * create it, rather than write under the token it remembers.
   */
  observe(modelType: string, token: unknown): string | null {
    const seen = this.#seen.get(modelType);
    // Every read passes here: the token seen last needs no check, and its entry is refreshed in place.
    if (seen !== undefined && seen.token === token) {
      seen.at = Date.now();
      return token;
    }
    if (!isGenerationToken(token)) {
      this.#seen.delete(modelType);
      return null;
    }
    if (seen) {
      seen.token = token;
      seen.at = Date.now();
    } else this.#seen.set(modelType, { token, at: Date.now() });
    return token;
  }

  /** The token seen in the last `refreshMs`, without a round trip; undefined when none was. */
  recent(modelType: string): string | undefined {
    const seen = this.#seen.get(modelType);
    return seen && Date.now() - seen.at < this.#refreshMs ? seen.token : undefined;
  }

  /**
   * The token to write a prediction under: the one seen in the last `refreshMs`, else read
   * (and created when the model type has none yet, or replaced when what the key holds is not a
   * token: predictions under such a value were never readable). Null when the backend failed.
   */
  async current(modelType: string): Promise<string | null> {
    const recent = this.recent(modelType);
    if (recent !== undefined) return recent;
    const key = this.#keys.generation(modelType);
    const stored = await this.#cache.get<unknown>(key);
    if (isGenerationToken(stored)) return this.observe(modelType, stored);
    const fresh = newGenerationToken();
    // Two writers may both find no token: the first one wins and the other adopts it.
    if (await this.#cache.setIfAbsent(key, fresh, { ttl: null })) return this.observe(modelType, fresh);
    const winner = await this.#cache.get<unknown>(key);
    if (isGenerationToken(winner)) return this.observe(modelType, winner);
    // The key holds something else (forged, or undecodable): without a replacement no prediction
    // of the model could ever be written readable again.
    if (winner !== null || (await this.#cache.exists(key))) {
      if (await this.#cache.set(key, fresh, { ttl: null })) return this.observe(modelType, fresh);
    }
    return this.observe(modelType, null);
  }

  /** Forgets the token remembered for a model type: the next write reads (or creates) it. */
  forget(modelType: string): void {
    this.#seen.delete(modelType);
  }

  /** Writes a new token: every prediction of the model type cached so far becomes a miss. */
  async bump(modelType: string): Promise<boolean> {
    const token = newGenerationToken();
    const ok = await this.#cache.set(this.#keys.generation(modelType), token, { ttl: null });
    if (ok) this.observe(modelType, token);
    else this.#seen.delete(modelType);
    return ok;
  }
}

/**
 * Resolves once every socket that was readable when the caller's reply was read has been read,
 * and every connection found closed then has said so: an invalidation Redis sent before that
 * reply, or the loss of a tracking connection before it, has then been applied.
 *
 * Redis queues a BCAST invalidation in `beforeSleep`, after the commands of its loop ran, then
 * writes every pending client newest first (`clients_pending_write` is pushed at its head in
 * networking.c of Redis 6 to 7 and Valkey): the tracking connection's push goes out before the
 * replies of that loop, so on one host it is in this process's socket before the reply that
 * follows the change (unless the tracking connection's output is backed up past a socket buffer).
 * A reply is read in the poll phase; the first immediate runs in the check phase after it (every
 * socket epoll found ready with it has been read), and the second after the close phase (where
 * node emits a socket's `close`, which is how node-redis, and so the watch, learns that a
 * tracking connection was killed) and one more whole poll phase. With one immediate, a token DEL
 * made just after its tracking connection was killed went unseen
 * (held-tokens.integration.test.ts). Shared by the calls made in one turn, so 100 writes in
 * flight cost two immediates, not 200.
 */
let polled: Promise<void> | undefined;
export function afterPoll(): Promise<void> {
  return (polled ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      // A caller from here on waits for a gate of its own: this one's second immediate may come
      // before the close phase that follows that caller's poll.
      polled = undefined;
      setImmediate(resolve);
    }),
  ));
}

const shared = new WeakMap<Cache, Map<string, HeldTokens>>();

/** A token held, and the key it is held for. */
interface Held {
  readonly key: string;
  readonly token: string;
}

/**
 * Generation tokens this process may write under without reading them back (`finrisk` layout),
 * kept coherent by Redis: a {@link KeyWatch} on the token keys' prefix hears every change to a
 * token (a deploy's new one, a DEL, an eviction, FLUSHALL) and every loss of tracking (a dropped
 * connection, a failover), and each drops what it concerns. A token is held only when it was
 * read back by a write sent while the watch was up, with no change to its key reported between
 * the send and the reply: any later change to it is then pushed, and drops it. Where the watch is
 * never up (tracking refused, the memory or embedded store), nothing is held and every write
 * reads its token back.
 */
export class HeldTokens {
  readonly #watch: KeyWatch;
  readonly #held = new Map<string, Held>();
  /** Counts the changes heard; `#lastChange` says when each key last changed, `#lastAll` when every key may have. */
  #seq = 0;
  #lastAll = 0;
  readonly #lastChange = new Map<string, number>();

  /** One per cache and prefix, shared by the MlCaches made on it: one set of tracking connections, however many there are. */
  static of(cache: Cache, prefix: KeyPrefix): HeldTokens {
    let byPrefix = shared.get(cache);
    if (byPrefix === undefined) shared.set(cache, (byPrefix = new Map()));
    let held = byPrefix.get(prefix.prefix);
    if (held === undefined) byPrefix.set(prefix.prefix, (held = new HeldTokens(cache, prefix)));
    return held;
  }

  private constructor(cache: Cache, prefix: KeyPrefix) {
    this.#watch = cache.watchPrefix(prefix, (key) => this.#changed(key));
  }

  #changed(key: string | null): void {
    this.#seq++;
    // Past a few thousand model types, forget which key changed when: as if all had.
    if (key === null || this.#lastChange.size >= 4096) {
      this.#lastAll = this.#seq;
      this.#lastChange.clear();
      this.#held.clear();
    } else {
      this.#lastChange.set(key, this.#seq);
      this.#held.delete(key);
    }
  }

  /** To note before sending a read of tokens; undefined while the watch is down (what it reads cannot be held). */
  mark(): number | undefined {
    return this.#watch.isUp ? this.#seq : undefined;
  }

  /** Holds a token read back from Redis (never from L1, which hears Redis on its own connection) in a round trip sent at `mark`. */
  hold(key: string, token: string, mark: number | undefined): void {
    const unchanged = mark !== undefined && this.#watch.isUp && this.#lastAll <= mark && (this.#lastChange.get(key) ?? 0) <= mark;
    if (unchanged) this.#held.set(key, { key, token });
    else this.#held.delete(key);
  }

  /** The token a write may use without reading it back (the entry, to pass to {@link HeldTokens.still}); undefined when none is held. */
  trusted(key: string): Held | undefined {
    return this.#watch.isUp ? this.#held.get(key) : undefined;
  }

  /** True while `held` is held: no change to its key and no loss of tracking was heard since {@link HeldTokens.trusted} gave it. */
  still(held: Held): boolean {
    return this.#watch.isUp && this.#held.get(held.key) === held;
  }

  /** Stops holding a key's token (a read saw another, or this process is replacing it). */
  drop(key: string): void {
    this.#held.delete(key);
  }
}
