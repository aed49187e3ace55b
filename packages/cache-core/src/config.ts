import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { FinRiskCacheError } from './errors.js';
import { Keyring, type EncryptionOptions } from './encryption.js';
import { isServiceName, SDK_KINDS } from './keys.js';
import { configError, maskUrl, parseSetting, SETTINGS, settingDefault, type HostPort, type SettingName, type SettingSpec } from './settings.js';

export { maskUrl, MAX_TTL_SECONDS } from './settings.js';
export type { HostPort } from './settings.js';

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

/**
 * The in-process L1 tier: hot reads served from memory, kept coherent by Redis itself (server-
 * assisted client-side caching, CLIENT TRACKING in BCAST mode on the cache's key prefixes), so a
 * write, delete, expiry, eviction or flush by any client removes the entry from every process.
 */
export interface L1Options {
  /** Size of L1 in MiB; 0 turns it off. @default 0 (`CACHE_L1_MAX_MB`) */
  maxMb?: number;
  /** Kinds held in L1 (the SDK's kinds: a name it does not have is refused), or `'*'` for every kind. @default ['prediction', 'feature', 'model', 'dataframe'] (`CACHE_L1_KINDS`) */
  kinds?: string[] | '*';
  /** Largest entry held, in MiB. @default a quarter of `maxMb` (`CACHE_L1_MAX_ENTRY_MB`) */
  maxEntryMb?: number;
  /** Longest an entry stays in L1, in seconds; never longer than its TTL in Redis. @default 60 (`CACHE_L1_MAX_TTL`) */
  maxTtl?: number;
}

/** The L1 settings, resolved. */
export interface L1Config {
  /** Bytes L1 may hold; 0 when it is off. */
  maxBytes: number;
  /** Kinds held, or `'*'`. */
  kinds: readonly string[] | '*';
  /** Largest entry, in bytes (L1 also holds no entry larger than itself). */
  maxEntryBytes: number;
  /** Longest lifetime of an entry, in ms. */
  maxTtlMs: number;
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
  /**
   * Deadline of each page of a prefix scan, count or delete (one SCAN of up to 1,000 keys), in
   * ms; never less than `commandTimeoutMs` (the UNLINK of each page has the command deadline).
   * Redis answers a page in about a millisecond: the deadline is there for a server that does not
   * answer, and it is 4x the command deadline because a clear or a count given up half-way costs
   * an operator more than a second's wait. @default 1000 (`CACHE_SCAN_TIMEOUT_MS`)
   */
  scanTimeoutMs?: number;
  /**
   * How long `close()` waits for replies still in flight before it drops the connection, in ms.
   * Callers of those commands got their answer at their own deadline already; this only lets
   * writes that are still within theirs finish. @default 1000 (`CACHE_CLOSE_TIMEOUT_MS`)
   */
  closeTimeoutMs?: number;
  /** Values whose encoded size reaches this many bytes are compressed. @default 16384 (`CACHE_COMPRESSION_THRESHOLD`; chosen by measurement: bench/compression.ts) */
  compressionThreshold?: number;
  /**
   * Largest value serialized (header and body, before compression), in bytes: larger writes are
   * refused, and reads inflate no further (a larger stored value is a corrupt payload: a miss).
   * @default 134217728 (128 MiB, `CACHE_MAX_VALUE_BYTES`)
   */
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
  /** The in-process L1 tier (off by default). */
  l1?: L1Options;
  /** The service this process belongs to, in fleet statistics. @default the app's package.json `name`, else 'unknown' (`CACHE_SERVICE_NAME`) */
  serviceName?: string;
  /** Publish this process's counters to Redis for the fleet view. @default true (`CACHE_STATS_PUBLISH`) */
  statsPublish?: boolean;
  /** Seconds between two publications. @default 10 (`CACHE_STATS_INTERVAL`) */
  statsIntervalSeconds?: number;
  /** Read a `.env` file: a path, or false for none. @default '.env' in the working directory */
  envFile?: string | false;
  /** Variables to read instead of `process.env`. */
  env?: Record<string, string | undefined>;
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
  /** Deadline of each SCAN page of a prefix operation, in ms. */
  scanTimeoutMs: number;
  /** How long close waits for in-flight replies before dropping the connection, in ms. */
  closeTimeoutMs: number;
  compressionThreshold: number;
  maxValueBytes: number;
  strict: boolean;
  breakerThreshold: number;
  breakerCooldownMs: number;
  keyLayout: KeyLayout;
  /** The in-process L1 tier. */
  l1: L1Config;
  /** The service this process belongs to (fleet statistics). */
  serviceName: string;
  /** Whether this process publishes its counters to Redis. */
  statsPublish: boolean;
  statsIntervalSeconds: number;
  /** The encryption keys, when encryption at rest is on (serializes without its keys). */
  keyring: Keyring | undefined;
  /** Where each setting came from, by setting name (`ttl.prediction` for TTLs). */
  sources: Record<string, ConfigSource>;
  /** The `.env` file that was read, if any. */
  envFile: string | undefined;
}

const MIB = 1024 * 1024;

const specOf = (name: SettingName): SettingSpec => SETTINGS.find((s) => s.name === name)!;

/** Every leaf option of `CacheOptions` as a dotted path (`ttl.prediction`); records of keys are one leaf. */
type OptionPaths<T, P extends string = ''> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends string | number | boolean | readonly unknown[]
    ? `${P}${K}`
    : string extends keyof NonNullable<T[K]>
      ? `${P}${K}`
      : OptionPaths<NonNullable<T[K]>, `${P}${K}.`>;
}[keyof T & string];
type SettingOptions = OptionPaths<Omit<CacheOptions, 'env' | 'envFile'>>;
/**
 * Checked by the compiler: every option of CacheOptions has a row in the settings table and every
 * row is an option. A new option without a row (or a row for no option) fails the build here.
 */
export const SETTINGS_COVER_OPTIONS: [Exclude<SettingOptions, SettingName>, Exclude<SettingName, SettingOptions>] extends [never, never] ? true : never = true;

/** The guide's defaults, from the settings table. */
export const DEFAULT_TTL: Readonly<TtlConfig> = Object.freeze({
  prediction: settingDefault<number>('ttl.prediction'),
  feature: settingDefault<number>('ttl.feature'),
  model: settingDefault<number>('ttl.model'),
  dataframe: settingDefault<number>('ttl.dataframe'),
  default: settingDefault<number>('ttl.default'),
});

function defaultLocalPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'finrisk-cache', 'cache.db');
}

let appName: string | undefined;

/**
 * The `name` of the running app's package.json: the nearest one above the main script (or the
 * working directory), skipping this SDK's own packages; `unknown` when there is none.
 */
function defaultServiceName(): string {
  if (appName !== undefined) return appName;
  appName = 'unknown';
  const start = process.argv[1] ? dirname(resolve(process.argv[1])) : process.cwd();
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name;
        // A name fleet statistics would refuse (a legacy package name with spaces) is not this service's name.
        if (isServiceName(name) && !dir.includes('node_modules')) {
          appName = name;
          break;
        }
      } catch {
        // an unreadable package.json names nothing
      }
    }
    if (dirname(dir) === dir) break;
  }
  return appName;
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

/** The value at a dotted path of an object (`ttl.prediction`), or undefined. */
function valueAt(object: unknown, path: string): unknown {
  let current = object;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * Resolves the configuration: options in code win, then real environment variables, then the
 * `.env` file, then the defaults, setting by setting as the table in settings.ts describes them.
 * An invalid value throws E_INVALID_CONFIG naming the variable and the value; nothing falls back
 * silently.
 */
export function resolveConfig(options: CacheOptions = {}): CacheConfig {
  const processEnv = options.env ?? process.env;
  const envFilePath = options.envFile === false ? undefined : resolve(options.envFile ?? '.env');
  const fileEnv = envFilePath ? readEnvFile(envFilePath) : {};
  const sources: Record<string, ConfigSource> = {};
  const values = new Map<SettingName, unknown>();

  for (const spec of SETTINGS) {
    const name = spec.name;
    const option = valueAt(options, name);
    const fromEnv = processEnv[spec.variable];
    const fromFile = fileEnv[spec.variable];
    let raw: unknown;
    if (option !== undefined) [raw, sources[name]] = [option, 'option'];
    else if (fromEnv !== undefined && fromEnv !== '') [raw, sources[name]] = [fromEnv, 'environment'];
    else if (fromFile !== undefined && fromFile !== '') [raw, sources[name]] = [fromFile, '.env'];
    else sources[name] = 'default';
    // Defaults go through the same parser (a list default is text, like a variable's value).
    values.set(name, parseSetting(spec, raw ?? spec.default));
  }
  const get = <T>(name: SettingName) => values.get(name) as T;

  const tlsOptions: TlsOptions = {};
  for (const field of ['caFile', 'certFile', 'keyFile', 'servername'] as const) {
    const value = get<string | undefined>(`tls.${field}`);
    if (value) tlsOptions[field] = value;
  }
  if (Boolean(tlsOptions.certFile) !== Boolean(tlsOptions.keyFile)) {
    throw configError(tlsOptions.certFile ? 'REDIS_TLS_KEY' : 'REDIS_TLS_CERT', '', 'both REDIS_TLS_CERT and REDIS_TLS_KEY, or neither');
  }
  const url = get<string | undefined>('url');
  const tls = Object.keys(tlsOptions).length > 0 || url?.startsWith('rediss:') ? tlsOptions : undefined;

  const clusterNodes = get<HostPort[] | undefined>('clusterNodes');
  const sentinels = get<HostPort[] | undefined>('sentinels');
  const sentinelMaster = get<string | undefined>('sentinelMaster');
  if (sentinels && !sentinelMaster) throw configError('REDIS_SENTINEL_MASTER', '', "the master's name when REDIS_SENTINELS is set");
  if (sentinels && clusterNodes) throw configError('REDIS_SENTINELS', specOf('sentinels').variable, 'either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both');

  const keys = get<Record<string, Uint8Array | string> | undefined>('encryption.keys');
  const activeKeyId = get<string | undefined>('encryption.activeKeyId');
  if (!keys) {
    // Without keys nothing is encrypted: a key id or a list of kinds set alone would be ignored silently.
    for (const name of ['encryption.activeKeyId', 'encryption.kinds'] as const) {
      if (sources[name] !== 'default') throw configError(specOf(name).variable, values.get(name), 'CACHE_ENCRYPTION_KEYS to be set as well (without keys nothing is encrypted)');
    }
  }
  const keyring = keys
    ? new Keyring({ keys, ...(activeKeyId ? { activeKeyId } : {}), kinds: get<string[] | '*'>('encryption.kinds') })
    : undefined;

  const l1Kinds = get<string[] | '*'>('l1.kinds');
  // A typo (`predictions`) would hold nothing of that kind, silently.
  if (l1Kinds !== '*' && (l1Kinds.length === 0 || l1Kinds.some((kind) => !(SDK_KINDS as readonly string[]).includes(kind)))) {
    throw configError(specOf('l1.kinds').variable, l1Kinds, `a comma-separated list of the SDK's kinds (${SDK_KINDS.join(', ')}), or * for every kind`);
  }

  const ttl: TtlConfig = {
    prediction: get('ttl.prediction'), feature: get('ttl.feature'), model: get('ttl.model'), dataframe: get('ttl.dataframe'), default: get('ttl.default'),
  };
  const password = get<string | undefined>('password');
  const config: CacheConfig = {
    url, host: get('host'), port: get('port'), db: get('db'), username: get('username'), password, tls,
    clusterNodes, sentinels, sentinelMaster, backend: get('backend'), keyPrefix: get('keyPrefix'),
    localPath: get<string | undefined>('localPath') ?? resolve(defaultLocalPath(processEnv)), ttl,
    commandTimeoutMs: get('commandTimeoutMs'), connectTimeoutMs: get('connectTimeoutMs'),
    scanTimeoutMs: get('scanTimeoutMs'), closeTimeoutMs: get('closeTimeoutMs'),
    compressionThreshold: get('compressionThreshold'), maxValueBytes: get('maxValueBytes'), strict: get('strict'),
    breakerThreshold: get('breakerThreshold'), breakerCooldownMs: get('breakerCooldownMs'), keyLayout: get('keyLayout'), keyring,
    serviceName: get<string | undefined>('serviceName') ?? defaultServiceName(),
    statsPublish: get('statsPublish'),
    statsIntervalSeconds: get('statsIntervalSeconds'),
    l1: {
      maxBytes: get<number>('l1.maxMb') * MIB,
      kinds: l1Kinds,
      maxEntryBytes: (get<number | undefined>('l1.maxEntryMb') ?? get<number>('l1.maxMb') / 4) * MIB,
      maxTtlMs: get<number>('l1.maxTtl') * 1000,
    },
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

/** One setting as `finrisk-cache config` shows it. */
export interface SettingRow {
  /** The option's path (`ttl.prediction`). */
  name: string;
  /** The environment variable. */
  variable: string;
  /** The value as text, secrets masked (`***`); null when unset. */
  value: string | null;
  /** Where the value came from. */
  source: ConfigSource;
  /** What the setting does. */
  description: string;
}

/** The value a resolved configuration holds for a setting (secrets included: callers mask). */
function configValue(config: CacheConfig, name: SettingName): unknown {
  switch (name) {
    case 'encryption.keys':
      return config.keyring?.keyIds;
    case 'encryption.activeKeyId':
      return config.keyring?.activeKeyId;
    case 'encryption.kinds':
      return config.keyring?.kinds;
    case 'l1.maxMb':
      return config.l1.maxBytes / MIB;
    case 'l1.maxEntryMb':
      return config.l1.maxEntryBytes / MIB;
    case 'l1.maxTtl':
      return config.l1.maxTtlMs / 1000;
    default:
      return valueAt(config, name);
  }
}

/**
 * Every setting of a resolved configuration with its value as text and where it came from, in
 * the table's order; secrets are `***` (encryption keys show only their ids).
 */
export function describeSettings(config: CacheConfig): SettingRow[] {
  return SETTINGS.map((spec) => {
    const name = spec.name;
    const value = configValue(config, name);
    let text: string | null;
    if (value === undefined || value === null) text = spec.default === undefined ? null : String(spec.default);
    else if (name === 'encryption.keys') text = `*** (key ids ${(value as string[]).join(', ')})`;
    else if (spec.secret) text = '***';
    else if (spec.type.kind === 'url') text = maskUrl(String(value));
    else if (spec.type.kind === 'host-ports') text = (value as HostPort[]).map((n) => `${n.host}:${n.port}`).join(',');
    else if (Array.isArray(value)) text = value.join(',');
    else text = String(value);
    return { name, variable: spec.variable, value: text, source: config.sources[name] ?? 'default', description: spec.description };
  });
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
