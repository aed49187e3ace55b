import type { Cache } from './cache.js';
import { getCache } from './default-cache.js';

/** Options of {@link createSessionStore}. */
export interface SessionStoreOptions {
  /** Idle time after which a session expires, in seconds. @default `CACHE_DEFAULT_TTL` (1800) */
  ttl?: number;
}

/** User sessions and temporary data, with sliding expiry: every read or touch restarts the TTL. */
export interface SessionStore {
  /** Stores (or replaces) a session; true when stored. */
  set<T>(sessionId: string, data: T, options?: { ttl?: number }): Promise<boolean>;
  /** Reads a session and restarts its TTL; null when missing or expired. */
  get<T = unknown>(sessionId: string): Promise<T | null>;
  /** Restarts a session's TTL without reading it; false when it does not exist. */
  touch(sessionId: string): Promise<boolean>;
  /** Deletes a session; true when it existed. */
  delete(sessionId: string): Promise<boolean>;
}

/** Session helpers over a cache; keys are `{prefix}:session:{id}`. */
export function createSessionStore(cache: Cache, options: SessionStoreOptions = {}): SessionStore {
  const ttl = options.ttl ?? cache.config.ttl.default;
  cache.ttlMs('session', ttl); // validate once, up front
  const key = (id: string) => cache.keys.key('session', id);
  return {
    set: (id, data, o) => cache.set(key(id), data, { ttl: o?.ttl ?? ttl }),
    get: (id) => cache.getAndTouch(key(id), { ttl }),
    touch: (id) => cache.expire(key(id), ttl),
    delete: (id) => cache.delete(key(id)),
  };
}

/** Stores a session in the process-wide cache. */
export function setSession<T>(sessionId: string, data: T, options?: { ttl?: number }): Promise<boolean> {
  return createSessionStore(getCache()).set(sessionId, data, options);
}

/** Reads a session from the process-wide cache and restarts its TTL. */
export function getSession<T = unknown>(sessionId: string): Promise<T | null> {
  return createSessionStore(getCache()).get<T>(sessionId);
}

/** Restarts a session's TTL in the process-wide cache. */
export function touchSession(sessionId: string): Promise<boolean> {
  return createSessionStore(getCache()).touch(sessionId);
}

/** Deletes a session from the process-wide cache. */
export function deleteSession(sessionId: string): Promise<boolean> {
  return createSessionStore(getCache()).delete(sessionId);
}
