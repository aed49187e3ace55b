export { Cache, createCache } from './cache.js';
export type { KeyWatch } from './key-watch.js';
export type {
  BulkResult,
  CacheErrorEvent,
  CacheEvents,
  CacheLogger,
  ConnectionCheck,
  CreateCacheOptions,
  KeyInput,
  KeyPrefix,
  LocalAttachments,
  OperationEvent,
  PrefixOptions,
  GetManyOptions,
  SetManyEntry,
  SetManyOptions,
  SetOptions,
} from './cache.js';
export type { FieldEntry, FieldsRead, GetFieldsOptions, SetFieldsOptions } from './cache-fields.js';
export { isHashStore } from './stores/hash-store.js';
export type { HashFieldWrite, HashReadResult, HashStore, HashWriteOptions } from './stores/hash-store.js';
export { getCache, resetCache, getRedisClient, getCacheStats, checkConnection } from './default-cache.js';
export { createSessionStore, setSession, getSession, touchSession, deleteSession } from './session.js';
export type { SessionStore, SessionStoreOptions } from './session.js';
export { resolveConfig, readEnvFile, maskUrl, describeRedisAddress, describeSettings, DEFAULT_TTL, MAX_TTL_SECONDS } from './config.js';
export type { BackendName, CacheConfig, CacheOptions, ConfigSource, HostPort, KeyLayout, L1Config, L1Options, SettingRow, TlsOptions, TtlConfig } from './config.js';
export { SETTINGS } from './settings.js';
export type { SettingName, SettingSpec, SettingType } from './settings.js';
export { FinRiskCacheError, toCacheError } from './errors.js';
export { MAX_TIMEOUT_MS } from './stores/deadline.js';
export { TypedEmitter } from './typed-emitter.js';
export type { EventMap } from './typed-emitter.js';
export type { EncryptionOptions, Keyring } from './encryption.js';
export type { CircuitState } from './circuit-breaker.js';
export type { CacheErrorCode, FinRiskCacheErrorOptions } from './errors.js';
export { KeySchema, validateId, MAX_ID_LENGTH } from './keys.js';
export type { CacheKey } from './keys.js';
export { encodeValue, decodeValue, registerClass, ENVELOPE_VERSION } from './codec.js';
export type { DecodeOptions, EncodeOptions, RegisterableClass } from './codec.js';
export { pythonJsonDumps, parsePythonJson } from './python-json.js';
export { formatBytes, hitRate } from './stats.js';
export type { FleetStats, PublishedStats, ServiceStats } from './fleet-stats.js';
export type { CacheStats, CacheStatus, KindStats } from './stats.js';
export { MemoryStore } from './stores/memory-store.js';
export type { MemoryStoreOptions } from './stores/memory-store.js';
export { LocalStore } from './stores/local-store.js';
export type { LocalStoreOptions } from './stores/local-store.js';
export type { RedisClient } from './stores/redis-store.js';
export type { CacheStore, StoreBackend, StoreCallOptions, StoreEntry, StoreInfo, StoreSetOptions } from './stores/store.js';
