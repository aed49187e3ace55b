import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { FinRiskCacheError } from './errors.js';
import { Keyring, parseEncryptionKeys, type EncryptionOptions } from './encryption.js';
import { validatePrefix } from './keys.js';

/** Which store serves the cache. */
export type BackendName = 'auto' | 'redis' | 'local' | 'memory';

/** Key layout of predictions and features: the SDK's own, or the Python FinRisk service's. */
export type KeyLayout = 'finrisk' | 'finrisk-python';

/** Time-to-live per kind of entry, in seconds. */
export interface TtlConfig {
  /** Model predictions. @default 3600 (`CACHE_PREDICTION_TTL`) */
  prediction: number;
  /** Customer feature vectors. @default 1800 (`CACHE_FEATURE_TTL`) */
  feature: number;
  /** Model artifacts. @default 86400 (`CACHE_MODEL_TTL`) */
  model: number;
  /** Data frames. @default 7200 (`CACHE_DATAFRAME_TTL`) */
  dataframe: number;
  /** Everything else, sessions included. @default 1800 (`CACHE_DEFAULT_TTL`) */
  default: number;
}

/** TLS settings for `rediss://` connections. */
export interface TlsOptions {
  /** PEM file of the certificate authority that signed the server's certificate (`REDIS_TLS_CA`). */
  caFile?: string;
  /** PEM file of the client certificate, when the server asks for one (`REDIS_TLS_CERT`). */
  certFile?: string;
  /** PEM file of the client certificate's private key (`REDIS_TLS_KEY`). */
  keyFile?: string;
  /** Host name the server's certificate must match. @default the host connected to */
  servername?: string;
}

/** Everything that configures a cache. Every field is optional: the environment fills the rest. */
export interface CacheOptions {
  /** `redis://` or `rediss://` URL; wins over host and port (`REDIS_URL`). */
  url?: string;
  /** @default 'localhost' (`REDIS_HOST`) */
  host?: string;
  /** @default 6379 (`REDIS_PORT`) */
  port?: number;
  /** Database number. @default 0 (`REDIS_DB`) */
  db?: number;
  /** ACL user name (`REDIS_USERNAME`). */
  username?: string;
  /** Password (`REDIS_PASSWORD`). Never printed. */
  password?: string;
  /** TLS files; implied by a `rediss://` URL. */
  tls?: TlsOptions;
  /** Seeds of a Redis Cluster, `host:port` each (`REDIS_CLUSTER_NODES`, comma-separated). Wins over url/host/port. */
  clusterNodes?: string[];
  /** Sentinels, `host:port` each (`REDIS_SENTINELS`, comma-separated); needs `sentinelMaster`. */
  sentinels?: string[];
  /** Name of the master the sentinels watch (`REDIS_SENTINEL_MASTER`). */
  sentinelMaster?: string;
  /** @default 'auto' (`CACHE_BACKEND`) */
  backend?: BackendName;
  /** Namespace of every key. @default 'finrisk' (`CACHE_KEY_PREFIX`) */
  keyPrefix?: string;
  /** File of the embedded local store. @default `$XDG_CACHE_HOME/finrisk-cache/cache.db` or `~/.cache/finrisk-cache/cache.db` (`CACHE_LOCAL_PATH`) */
  localPath?: string;
  /** TTLs in seconds, per kind. */
  ttl?: Partial<TtlConfig>;
  /** How long one command may take before it counts as failed, in ms. @default 250 (`CACHE_COMMAND_TIMEOUT_MS`) */
  commandTimeoutMs?: number;
  /** How long `auto` waits for Redis before it falls back to the local store, in ms. @default 1000 (`CACHE_CONNECT_TIMEOUT_MS`) */
  connectTimeoutMs?: number;
  /** Values whose encoded size reaches this many bytes are compressed. @default 16384 (`CACHE_COMPRESSION_THRESHOLD`; chosen by measurement: bench/compression.ts) */
  compressionThreshold?: number;
  /** Largest value accepted, in bytes after encoding. @default 134217728 (128 MiB, `CACHE_MAX_VALUE_BYTES`) */
  maxValueBytes?: number;
  /** Throw backend failures into the caller instead of answering miss/false. @default false (`CACHE_STRICT`) */
  strict?: boolean;
  /** Consecutive connection failures or timeouts after which calls stop going to Redis for a while. @default 5 (`CACHE_BREAKER_THRESHOLD`) */
  breakerThreshold?: number;
  /** How long calls stay away from a failing Redis before one probe is let through, in ms. @default 1000 (`CACHE_BREAKER_COOLDOWN_MS`) */
  breakerCooldownMs?: number;
  /** Key layout of predictions and features. @default 'finrisk' (`CACHE_KEY_LAYOUT`) */
  keyLayout?: KeyLayout;
  /**
   * Encryption at rest with AES-256-GCM (`CACHE_ENCRYPTION_KEYS` = `id:base64,...`,
   * `CACHE_ENCRYPTION_KEY_ID`, `CACHE_ENCRYPT_KINDS` = `prediction,feature` or `*`). @default none
   */
  encryption?: EncryptionOptions;
  /** Read a `.env` file: a path, or false for none. @default '.env' in the working directory */
  envFile?: string | false;
  /** Variables to read instead of `process.env`. */
  env?: Record<string, string | undefined>;
}

/** A `host:port` pair. */
export interface HostPort {
  host: string;
  port: number;
}

/** Where a setting's value came from. */
export type ConfigSource = 'default' | '.env' | 'environment' | 'option';

/** A fully resolved configuration. */
export interface CacheConfig {
  url: string | undefined;
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  tls: TlsOptions | undefined;
  /** Cluster seeds; when set, the Redis backend is a cluster. */
  clusterNodes: HostPort[] | undefined;
  /** Sentinels; when set, the Redis backend follows the master they name. */
  sentinels: HostPort[] | undefined;
  sentinelMaster: string | undefined;
  backend: BackendName;
  keyPrefix: string;
  localPath: string;
  ttl: TtlConfig;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  compressionThreshold: number;
  maxValueBytes: number;
  strict: boolean;
  breakerThreshold: number;
  breakerCooldownMs: number;
  keyLayout: KeyLayout;
  /** The encryption keys, when encryption at rest is on (serializes without its keys). */
  keyring: Keyring | undefined;
  /** Where each setting came from, by setting name (`ttl.prediction` for TTLs). */
  sources: Record<string, ConfigSource>;
  /** The `.env` file that was read, if any. */
  envFile: string | undefined;
}

/** The guide's defaults. */
export const DEFAULT_TTL: Readonly<TtlConfig> = Object.freeze({
  prediction: 3600,
  feature: 1800,
  model: 86400,
  dataframe: 7200,
  default: 1800,
});

function defaultLocalPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'finrisk-cache', 'cache.db');
}

function configError(variable: string, value: unknown, expected: string): FinRiskCacheError {
  return new FinRiskCacheError('E_INVALID_CONFIG', `${variable}=${JSON.stringify(value)} is invalid: expected ${expected}`);
}

function parseInteger(variable: string, raw: string | number, min: number, max: number): number {
  const text = String(raw).trim();
  const value = typeof raw === 'number' ? raw : /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw configError(variable, raw, `a whole number from ${min} to ${max}`);
  }
  return value;
}

function parseBoolean(variable: string, raw: string | boolean): boolean {
  if (typeof raw === 'boolean') return raw;
  const text = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(text)) return false;
  throw configError(variable, raw, 'true or false');
}

function parseChoice<T extends string>(variable: string, raw: string, choices: readonly T[]): T {
  const text = raw.trim() as T;
  if (!choices.includes(text)) throw configError(variable, raw, `one of ${choices.join(', ')}`);
  return text;
}

function parseHostPorts(variable: string, raw: string | string[]): HostPort[] {
  const items = (Array.isArray(raw) ? raw : raw.split(',')).map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw configError(variable, raw, 'a comma-separated list of host:port');
  return items.map((item) => {
    const at = item.lastIndexOf(':');
    const host = item.slice(0, at).replace(/^\[|\]$/g, '');
    const port = at > 0 ? Number(item.slice(at + 1)) : Number.NaN;
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw configError(variable, raw, `host:port items (bad item ${JSON.stringify(item)})`);
    return { host, port };
  });
}

function parseUrl(variable: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configError(variable, maskUrl(raw), 'a URL such as redis://host:6379/0 or rediss://host:6380');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw configError(variable, maskUrl(raw), 'a redis:// or rediss:// URL');
  }
  return raw;
}

/** Replaces the password of a URL with `***` (and a user-only credential too); leaves other text as it is. */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    else if (url.username && !url.password) url.username = '***';
    return url.toString();
  } catch {
    // Up to the last '@' of the line: a password that was not percent-encoded may hold '@' or '/'.
    return raw.replace(/\/\/.*@/, '//***@');
  }
}

/** Reads a `.env` file into a record; a missing file is an empty record. */
export function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new FinRiskCacheError('E_INVALID_CONFIG', `could not read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

const TTL_VARIABLES: Record<keyof TtlConfig, string> = {
  prediction: 'CACHE_PREDICTION_TTL',
  feature: 'CACHE_FEATURE_TTL',
  model: 'CACHE_MODEL_TTL',
  dataframe: 'CACHE_DATAFRAME_TTL',
  default: 'CACHE_DEFAULT_TTL',
};

/** Longest TTL accepted, in seconds (ten years); anything longer is a typo. */
export const MAX_TTL_SECONDS = 315_360_000;

/**
 * Resolves the configuration: options in code win, then real environment variables, then the
 * `.env` file, then the guide's defaults. An invalid value throws E_INVALID_CONFIG naming the
 * variable and the value; nothing falls back silently.
 */
export function resolveConfig(options: CacheOptions = {}): CacheConfig {
  const processEnv = options.env ?? process.env;
  const envFilePath = options.envFile === false ? undefined : resolve(options.envFile ?? '.env');
  const fileEnv = envFilePath ? readEnvFile(envFilePath) : {};
  const sources: Record<string, ConfigSource> = {};

  /** The raw value of a setting and where it came from; options first. */
  function pick<T>(name: string, option: T | undefined, variable: string): { value: T | string; from: ConfigSource } | undefined {
    if (option !== undefined) {
      sources[name] = 'option';
      return { value: option, from: 'option' };
    }
    const fromEnv = processEnv[variable];
    if (fromEnv !== undefined && fromEnv !== '') {
      sources[name] = 'environment';
      return { value: fromEnv, from: 'environment' };
    }
    const fromFile = fileEnv[variable];
    if (fromFile !== undefined && fromFile !== '') {
      sources[name] = '.env';
      return { value: fromFile, from: '.env' };
    }
    sources[name] = 'default';
    return undefined;
  }

  const str = (name: string, option: string | undefined, variable: string, fallback: string): string => {
    const got = pick(name, option, variable);
    return got ? String(got.value) : fallback;
  };
  const optionalStr = (name: string, option: string | undefined, variable: string): string | undefined => {
    const got = pick(name, option, variable);
    return got ? String(got.value) : undefined;
  };
  const int = (name: string, option: number | undefined, variable: string, fallback: number, min: number, max: number) => {
    const got = pick(name, option, variable);
    return got ? parseInteger(variable, got.value as string | number, min, max) : fallback;
  };

  const rawUrl = optionalStr('url', options.url, 'REDIS_URL');
  const url = rawUrl === undefined ? undefined : parseUrl('REDIS_URL', rawUrl);
  const host = str('host', options.host, 'REDIS_HOST', 'localhost');
  if (!host.trim() || /\s/.test(host)) throw configError('REDIS_HOST', host, 'a host name or address');
  const port = int('port', options.port, 'REDIS_PORT', 6379, 1, 65535);
  const db = int('db', options.db, 'REDIS_DB', 0, 0, 15);
  const username = optionalStr('username', options.username, 'REDIS_USERNAME');
  const password = optionalStr('password', options.password, 'REDIS_PASSWORD');

  const tlsOptions: TlsOptions = {};
  const caFile = optionalStr('tls.caFile', options.tls?.caFile, 'REDIS_TLS_CA');
  const certFile = optionalStr('tls.certFile', options.tls?.certFile, 'REDIS_TLS_CERT');
  const keyFile = optionalStr('tls.keyFile', options.tls?.keyFile, 'REDIS_TLS_KEY');
  const servername = optionalStr('tls.servername', options.tls?.servername, 'REDIS_TLS_SERVERNAME');
  if (caFile) tlsOptions.caFile = caFile;
  if (certFile) tlsOptions.certFile = certFile;
  if (keyFile) tlsOptions.keyFile = keyFile;
  if (servername) tlsOptions.servername = servername;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw configError(certFile ? 'REDIS_TLS_KEY' : 'REDIS_TLS_CERT', '', 'both REDIS_TLS_CERT and REDIS_TLS_KEY, or neither');
  }
  const tls = Object.keys(tlsOptions).length > 0 || url?.startsWith('rediss:') ? tlsOptions : undefined;

  const clusterRaw = pick('clusterNodes', options.clusterNodes, 'REDIS_CLUSTER_NODES');
  const clusterNodes = clusterRaw ? parseHostPorts('REDIS_CLUSTER_NODES', clusterRaw.value as string | string[]) : undefined;
  const sentinelsRaw = pick('sentinels', options.sentinels, 'REDIS_SENTINELS');
  const sentinels = sentinelsRaw ? parseHostPorts('REDIS_SENTINELS', sentinelsRaw.value as string | string[]) : undefined;
  const sentinelMaster = optionalStr('sentinelMaster', options.sentinelMaster, 'REDIS_SENTINEL_MASTER');
  if (sentinels && !sentinelMaster) throw configError('REDIS_SENTINEL_MASTER', '', "the master's name when REDIS_SENTINELS is set");
  if (sentinels && clusterNodes) throw configError('REDIS_SENTINELS', sentinelsRaw!.value, 'either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both');

  const backendRaw = pick('backend', options.backend, 'CACHE_BACKEND');
  const backend = backendRaw
    ? parseChoice('CACHE_BACKEND', String(backendRaw.value), ['auto', 'redis', 'local', 'memory'] as const)
    : 'auto';
  const keyPrefixRaw = str('keyPrefix', options.keyPrefix, 'CACHE_KEY_PREFIX', 'finrisk');
  const keyPrefix = validatePrefix(keyPrefixRaw);
  const localPath = resolve(str('localPath', options.localPath, 'CACHE_LOCAL_PATH', defaultLocalPath(processEnv)));

  const ttl = { ...DEFAULT_TTL };
  for (const kind of Object.keys(TTL_VARIABLES) as (keyof TtlConfig)[]) {
    ttl[kind] = int(`ttl.${kind}`, options.ttl?.[kind], TTL_VARIABLES[kind], DEFAULT_TTL[kind], 1, MAX_TTL_SECONDS);
  }

  const commandTimeoutMs = int('commandTimeoutMs', options.commandTimeoutMs, 'CACHE_COMMAND_TIMEOUT_MS', 250, 1, 600_000);
  const connectTimeoutMs = int('connectTimeoutMs', options.connectTimeoutMs, 'CACHE_CONNECT_TIMEOUT_MS', 1000, 1, 600_000);
  const compressionThreshold = int(
    'compressionThreshold', options.compressionThreshold, 'CACHE_COMPRESSION_THRESHOLD', 16384, 0, 2 ** 31 - 1,
  );
  const maxValueBytes = int('maxValueBytes', options.maxValueBytes, 'CACHE_MAX_VALUE_BYTES', 128 * 1024 * 1024, 1, 512 * 1024 * 1024);
  const strictRaw = pick('strict', options.strict, 'CACHE_STRICT');
  const strict = strictRaw ? parseBoolean('CACHE_STRICT', strictRaw.value as string | boolean) : false;
  const breakerThreshold = int('breakerThreshold', options.breakerThreshold, 'CACHE_BREAKER_THRESHOLD', 5, 1, 1_000_000);
  const breakerCooldownMs = int('breakerCooldownMs', options.breakerCooldownMs, 'CACHE_BREAKER_COOLDOWN_MS', 1000, 1, 3_600_000);
  const layoutRaw = pick('keyLayout', options.keyLayout, 'CACHE_KEY_LAYOUT');
  const keyLayout = layoutRaw
    ? parseChoice('CACHE_KEY_LAYOUT', String(layoutRaw.value), ['finrisk', 'finrisk-python'] as const)
    : 'finrisk';

  let keyring: Keyring | undefined;
  const keysRaw = pick('encryption', options.encryption, 'CACHE_ENCRYPTION_KEYS');
  if (keysRaw) {
    const fromOption = keysRaw.from === 'option' ? (keysRaw.value as EncryptionOptions) : undefined;
    const activeKeyId = fromOption?.activeKeyId ?? optionalStr('encryption.activeKeyId', undefined, 'CACHE_ENCRYPTION_KEY_ID');
    const kindsRaw = fromOption?.kinds ?? optionalStr('encryption.kinds', undefined, 'CACHE_ENCRYPT_KINDS');
    const kinds = kindsRaw === undefined || kindsRaw === '*' ? '*' : Array.isArray(kindsRaw) ? kindsRaw : kindsRaw.split(',').map((k) => k.trim()).filter(Boolean);
    keyring = new Keyring({
      keys: fromOption?.keys ?? parseEncryptionKeys(String(keysRaw.value)),
      ...(activeKeyId ? { activeKeyId } : {}),
      kinds,
    });
  }

  const config: CacheConfig = {
    url, host, port, db, username, password, tls, clusterNodes, sentinels, sentinelMaster, backend, keyPrefix, localPath, ttl,
    commandTimeoutMs, connectTimeoutMs, compressionThreshold, maxValueBytes, strict, breakerThreshold, breakerCooldownMs, keyLayout, keyring,
    sources,
    envFile: envFilePath && existsSync(envFilePath) ? envFilePath : undefined,
  };
  // The password and the URL's credentials are there to connect, not to be printed: a service that
  // logs or serializes its configuration gets them masked. Non-enumerable, so spreads stay plain.
  const masked = () => ({ ...config, url: url === undefined ? undefined : maskUrl(url), password: password === undefined ? undefined : '***' });
  Object.defineProperty(config, 'toJSON', { value: masked });
  Object.defineProperty(config, Symbol.for('nodejs.util.inspect.custom'), {
    value: (_depth: number, options: object, inspect: (value: unknown, options: object) => string) => inspect(masked(), options),
  });
  return config;
}

/** `host:port/db` or the URL of the configured Redis, with any password masked. */
export function describeRedisAddress(config: CacheConfig): string {
  const list = (nodes: HostPort[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (config.clusterNodes) return `redis-cluster://${list(config.clusterNodes)}`;
  if (config.sentinels) return `redis-sentinel://${list(config.sentinels)}/${config.sentinelMaster}`;
  if (config.url) return maskUrl(config.url);
  const scheme = config.tls ? 'rediss' : 'redis';
  const user = config.username ? `${config.username}${config.password ? ':***' : ''}@` : config.password ? ':***@' : '';
  return `${scheme}://${user}${config.host}:${config.port}/${config.db}`;
}
