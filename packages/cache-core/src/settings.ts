import { resolve } from 'node:path';
import { FinRiskCacheError } from './errors.js';
import { isServiceName, validatePrefix } from './keys.js';

/**
 * Every setting of the SDK, once: its option, its variable, its type, its default, whether it
 * is secret, and what it means. Parsing (`resolveConfig`), the CLI's `config` and `--help`, and
 * the settings tables of the READMEs are all derived from this table, so they cannot drift
 * apart; a unit test fails when an option of `CacheOptions` has no row here, or a row shows no
 * value in `config`.
 */

/** How the text of a variable (or an option's value) is read. */
export type SettingType =
  | { readonly kind: 'integer'; readonly min: number; readonly max: number; readonly unit?: 'ms' | 's' | 'bytes' | 'MiB' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'choice'; readonly choices: readonly string[] }
  | { readonly kind: 'text' }
  | { readonly kind: 'url' }
  | { readonly kind: 'path' }
  | { readonly kind: 'host-ports' }
  /** Comma-separated names, or `*` for all. */
  | { readonly kind: 'list' }
  /** `id:base64,id:base64` encryption keys. */
  | { readonly kind: 'keys' };

/** One setting. */
export interface SettingSpec {
  /** The option's path in `CacheOptions`: `commandTimeoutMs`, `ttl.prediction`, `tls.caFile`. */
  readonly name: string;
  /** The environment variable (also read from `.env`). */
  readonly variable: string;
  readonly type: SettingType;
  /** The value when nothing sets it; undefined for settings that are off or empty by default. */
  readonly default?: string | number | boolean;
  /** How the default reads in docs when it is not a constant (e.g. a path under the home folder). */
  readonly defaultText?: string;
  /** Never shown: `config` prints `***`. */
  readonly secret?: boolean;
  /** What it does, one sentence, for `--help`-length docs and the READMEs. */
  readonly description: string;
  /** A valid value, as a variable would hold it (docs and the table's own tests). */
  readonly example: string;
}

/** Longest TTL accepted, in seconds (ten years); anything longer is a typo. */
export const MAX_TTL_SECONDS = 315_360_000;

const ttl = <K extends string>(kind: K, variable: string, seconds: number, what: string) => ({
  name: `ttl.${kind}` as const,
  variable,
  type: { kind: 'integer', min: 1, max: MAX_TTL_SECONDS, unit: 's' } as const,
  default: seconds,
  description: `time to live of ${what}`,
  example: '600',
});

/**
 * The table. Order is the order an operator reads them in `config`: where Redis is, how to
 * reach it, which store, then behaviour.
 */
const TABLE = [
  { name: 'url', variable: 'REDIS_URL', type: { kind: 'url' }, description: '`redis://` or `rediss://` URL; wins over host, port and db', example: 'redis://cache.internal:6379/0' },
  { name: 'host', variable: 'REDIS_HOST', type: { kind: 'text' }, default: 'localhost', description: 'Redis host', example: 'cache.internal' },
  { name: 'port', variable: 'REDIS_PORT', type: { kind: 'integer', min: 1, max: 65535 }, default: 6379, description: 'Redis port', example: '6380' },
  { name: 'db', variable: 'REDIS_DB', type: { kind: 'integer', min: 0, max: 15 }, default: 0, description: 'database number', example: '2' },
  { name: 'username', variable: 'REDIS_USERNAME', type: { kind: 'text' }, description: 'ACL user name', example: 'finrisk' },
  { name: 'password', variable: 'REDIS_PASSWORD', type: { kind: 'text' }, secret: true, description: 'password; never printed', example: 'hunter2' },
  { name: 'tls.caFile', variable: 'REDIS_TLS_CA', type: { kind: 'path' }, description: "PEM file of the CA that signed the server's certificate (TLS)", example: '/etc/ssl/redis-ca.pem' },
  { name: 'tls.certFile', variable: 'REDIS_TLS_CERT', type: { kind: 'path' }, description: 'PEM file of the client certificate, when the server asks for one', example: '/etc/ssl/client.pem' },
  { name: 'tls.keyFile', variable: 'REDIS_TLS_KEY', type: { kind: 'path' }, description: "PEM file of the client certificate's private key", example: '/etc/ssl/client.key' },
  { name: 'tls.servername', variable: 'REDIS_TLS_SERVERNAME', type: { kind: 'text' }, defaultText: 'the host connected to', description: "host name the server's certificate must match", example: 'cache.internal' },
  { name: 'clusterNodes', variable: 'REDIS_CLUSTER_NODES', type: { kind: 'host-ports' }, description: 'seeds of a Redis Cluster (`host:port,...`); wins over url, host and port', example: '10.0.0.1:7000,10.0.0.2:7000' },
  { name: 'sentinels', variable: 'REDIS_SENTINELS', type: { kind: 'host-ports' }, description: 'sentinels (`host:port,...`); needs REDIS_SENTINEL_MASTER', example: '10.0.0.1:26379,10.0.0.2:26379' },
  { name: 'sentinelMaster', variable: 'REDIS_SENTINEL_MASTER', type: { kind: 'text' }, description: 'name of the master the sentinels watch', example: 'mymaster' },
  { name: 'backend', variable: 'CACHE_BACKEND', type: { kind: 'choice', choices: ['auto', 'redis', 'local', 'memory'] }, default: 'auto', description: '`auto`: Redis, else the embedded store (said once); `redis`, `local` (embedded SQLite file), `memory`', example: 'redis' },
  { name: 'localPath', variable: 'CACHE_LOCAL_PATH', type: { kind: 'path' }, defaultText: '`$XDG_CACHE_HOME/finrisk-cache/cache.db` (or `~/.cache/finrisk-cache/cache.db`)', description: "the embedded store's file", example: '/var/cache/finrisk/cache.db' },
  { name: 'keyPrefix', variable: 'CACHE_KEY_PREFIX', type: { kind: 'text' }, default: 'finrisk', description: 'namespace of every key (not `prediction` or `features`: the finrisk-python layout owns those)', example: 'risk' },
  { name: 'keyLayout', variable: 'CACHE_KEY_LAYOUT', type: { kind: 'choice', choices: ['finrisk', 'finrisk-python'] }, default: 'finrisk', description: "key layout of predictions and features; `finrisk-python` shares keys with the Python service", example: 'finrisk-python' },
  ttl('prediction', 'CACHE_PREDICTION_TTL', 3600, 'model predictions'),
  ttl('feature', 'CACHE_FEATURE_TTL', 1800, 'customer feature vectors'),
  ttl('model', 'CACHE_MODEL_TTL', 86400, 'model artifacts'),
  ttl('dataframe', 'CACHE_DATAFRAME_TTL', 7200, 'data frames'),
  ttl('default', 'CACHE_DEFAULT_TTL', 1800, 'everything else (generic keys, sessions)'),
  { name: 'commandTimeoutMs', variable: 'CACHE_COMMAND_TIMEOUT_MS', type: { kind: 'integer', min: 1, max: 600_000, unit: 'ms' }, default: 250, description: 'longest one command may take before it counts as failed (writes get 1 ms more per 64 KiB they carry)', example: '500' },
  { name: 'connectTimeoutMs', variable: 'CACHE_CONNECT_TIMEOUT_MS', type: { kind: 'integer', min: 1, max: 600_000, unit: 'ms' }, default: 1000, description: 'how long `auto` waits for Redis before it falls back to the embedded store', example: '2000' },
  { name: 'scanTimeoutMs', variable: 'CACHE_SCAN_TIMEOUT_MS', type: { kind: 'integer', min: 1, max: 600_000, unit: 'ms' }, default: 1000, description: 'deadline of each SCAN page (up to 1,000 keys) of a prefix scan, count or delete, never less than the command deadline (each UNLINK of a page has the command deadline); Redis answers a page in about a millisecond, and a clear given up half-way costs more than a second\'s wait', example: '5000' },
  { name: 'closeTimeoutMs', variable: 'CACHE_CLOSE_TIMEOUT_MS', type: { kind: 'integer', min: 0, max: 600_000, unit: 'ms' }, default: 1000, description: 'how long `close()` waits for replies still in flight before it drops the connection (0: at once)', example: '250' },
  { name: 'compressionThreshold', variable: 'CACHE_COMPRESSION_THRESHOLD', type: { kind: 'integer', min: 0, max: 2 ** 31 - 1, unit: 'bytes' }, default: 16384, description: 'values whose encoded size reaches this are deflated, when that pays (0: never); chosen by measurement (bench/compression.ts)', example: '65536' },
  { name: 'maxValueBytes', variable: 'CACHE_MAX_VALUE_BYTES', type: { kind: 'integer', min: 1, max: 512 * 1024 * 1024, unit: 'bytes' }, default: 128 * 1024 * 1024, description: 'largest value serialized (header and body, before compression): larger writes are refused, and reads inflate no further (a larger stored value is a miss with E_PAYLOAD_CORRUPT); give readers at least the writers\' limit', example: '1048576' },
  { name: 'strict', variable: 'CACHE_STRICT', type: { kind: 'boolean' }, default: false, description: 'throw backend failures into the caller instead of answering miss / false', example: 'true' },
  { name: 'breakerThreshold', variable: 'CACHE_BREAKER_THRESHOLD', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 5, description: 'consecutive connection failures or timeouts after which calls stop going to Redis for a while', example: '10' },
  { name: 'breakerCooldownMs', variable: 'CACHE_BREAKER_COOLDOWN_MS', type: { kind: 'integer', min: 1, max: 3_600_000, unit: 'ms' }, default: 1000, description: 'how long an open circuit keeps calls away from Redis before one probe', example: '5000' },
  { name: 'encryption.keys', variable: 'CACHE_ENCRYPTION_KEYS', type: { kind: 'keys' }, secret: true, description: 'encryption at rest: `id:base64,...` AES-256 keys (32 bytes each); old keys stay listed to read what they wrote', example: 'k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=' },
  { name: 'encryption.activeKeyId', variable: 'CACHE_ENCRYPTION_KEY_ID', type: { kind: 'text' }, defaultText: 'the first key listed', description: 'id of the key new values are encrypted with', example: 'k1' },
  { name: 'encryption.kinds', variable: 'CACHE_ENCRYPT_KINDS', type: { kind: 'list' }, default: '*', description: 'kinds to encrypt, e.g. `prediction,feature`, or `*` for every kind', example: 'prediction,feature' },
  { name: 'l1.maxMb', variable: 'CACHE_L1_MAX_MB', type: { kind: 'integer', min: 0, max: 1_048_576, unit: 'MiB' }, default: 0, description: 'size of the in-process L1 tier that Redis keeps coherent (CLIENT TRACKING); 0 turns it off. Needs Redis 6 or later; off on the embedded store and in the CLI', example: '256' },
  { name: 'l1.kinds', variable: 'CACHE_L1_KINDS', type: { kind: 'list' }, default: 'prediction,feature,model,dataframe', description: 'kinds held in L1, of the SDK\'s: `prediction`, `feature`, `model`, `dataframe`, `generation`, `kv`, `session`, `lock` (a model\'s generation token goes with `prediction`; another name is refused), or `*` for every kind, your own too', example: 'prediction,model' },
  { name: 'l1.maxEntryMb', variable: 'CACHE_L1_MAX_ENTRY_MB', type: { kind: 'integer', min: 1, max: 1_048_576, unit: 'MiB' }, defaultText: 'a quarter of `CACHE_L1_MAX_MB`', description: 'largest entry L1 holds (a decoded table with its manifest counts as one); larger values are read from Redis every time', example: '16' },
  { name: 'l1.maxTtl', variable: 'CACHE_L1_MAX_TTL', type: { kind: 'integer', min: 1, max: MAX_TTL_SECONDS, unit: 's' }, default: 60, description: "longest an entry stays in L1 (a safety net beside Redis's invalidations); never longer than the key's TTL in Redis", example: '300' },
  { name: 'serviceName', variable: 'CACHE_SERVICE_NAME', type: { kind: 'text' }, defaultText: 'the `name` in the running app\'s package.json, else `unknown`', description: 'the service this process belongs to, as fleet statistics name it', example: 'scoring-service' },
  { name: 'statsPublish', variable: 'CACHE_STATS_PUBLISH', type: { kind: 'boolean' }, default: true, description: "publish this process's per-kind counters to Redis for the fleet view (`finrisk-cache stats`, the dashboard); `off` to stop", example: 'off' },
  { name: 'statsIntervalSeconds', variable: 'CACHE_STATS_INTERVAL', type: { kind: 'integer', min: 1, max: 3600, unit: 's' }, default: 10, description: 'seconds between two publications of the counters; each lives three intervals in Redis', example: '30' },
] as const satisfies readonly SettingSpec[];

/**
 * The name of a setting: its option path in `CacheOptions`. Written out for the API report; the
 * compiler checks it names exactly the table's rows (below) and config.ts checks the table
 * against CacheOptions.
 */
export type SettingName =
  | 'url'
  | 'host'
  | 'port'
  | 'db'
  | 'username'
  | 'password'
  | 'tls.caFile'
  | 'tls.certFile'
  | 'tls.keyFile'
  | 'tls.servername'
  | 'clusterNodes'
  | 'sentinels'
  | 'sentinelMaster'
  | 'backend'
  | 'localPath'
  | 'keyPrefix'
  | 'keyLayout'
  | 'ttl.prediction'
  | 'ttl.feature'
  | 'ttl.model'
  | 'ttl.dataframe'
  | 'ttl.default'
  | 'commandTimeoutMs'
  | 'connectTimeoutMs'
  | 'scanTimeoutMs'
  | 'closeTimeoutMs'
  | 'compressionThreshold'
  | 'maxValueBytes'
  | 'strict'
  | 'breakerThreshold'
  | 'breakerCooldownMs'
  | 'encryption.keys'
  | 'encryption.activeKeyId'
  | 'encryption.kinds'
  | 'l1.maxMb'
  | 'l1.kinds'
  | 'l1.maxEntryMb'
  | 'l1.maxTtl'
  | 'serviceName'
  | 'statsPublish'
  | 'statsIntervalSeconds';

type TableName = (typeof TABLE)[number]['name'];
/** Checked by the compiler: {@link SettingName} and the table name the same settings. */
export const SETTING_NAMES_MATCH_TABLE: [Exclude<SettingName, TableName>, Exclude<TableName, SettingName>] extends [never, never] ? true : never = true;

/** Every setting, in the order `finrisk-cache config` shows them. */
export const SETTINGS: readonly (SettingSpec & { readonly name: SettingName })[] = TABLE;

/** A setting's default, by name; for the modules that need one without a configuration (codec, breaker). */
export function settingDefault<T extends string | number | boolean>(name: SettingName): T {
  const spec = SETTINGS.find((s) => s.name === name);
  if (spec?.default === undefined) throw new Error(`setting ${name} has no constant default`);
  return spec.default as T;
}

/** The error for a setting whose value is invalid, naming the variable, the value and what was expected. */
export function configError(variable: string, value: unknown, expected: string): FinRiskCacheError {
  return new FinRiskCacheError('E_INVALID_CONFIG', `${variable}=${JSON.stringify(value)} is invalid: expected ${expected}`);
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

/** A `host:port` pair. */
export interface HostPort {
  host: string;
  port: number;
}

function parseHostPorts(variable: string, raw: string | readonly string[]): HostPort[] {
  const items = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw configError(variable, raw, 'a comma-separated list of host:port');
  return items.map((item) => {
    const at = item.lastIndexOf(':');
    const host = item.slice(0, at).replace(/^\[|\]$/g, '');
    const port = at > 0 ? Number(item.slice(at + 1)) : Number.NaN;
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw configError(variable, raw, `host:port items (bad item ${JSON.stringify(item)})`);
    return { host, port };
  });
}

function parseKeys(variable: string, raw: unknown): Record<string, Uint8Array | string> {
  if (typeof raw !== 'string') {
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return raw as Record<string, Uint8Array | string>;
    throw configError(variable, '***', 'keys by id');
  }
  const keys: Record<string, string> = {};
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = item.indexOf(':');
    if (at <= 0) throw new FinRiskCacheError('E_INVALID_CONFIG', `${variable} must be a comma-separated list of keyId:base64Key`);
    keys[item.slice(0, at)] = item.slice(at + 1);
  }
  return keys;
}

/**
 * Reads one setting's raw value (a variable's text, or an option's value) as its type says.
 * Throws E_INVALID_CONFIG naming the variable and the value (never a secret's value).
 */
export function parseSetting(spec: SettingSpec, raw: unknown): unknown {
  if (raw === undefined) return undefined;
  const { variable, type } = spec;
  const shown = spec.secret ? '***' : raw;
  switch (type.kind) {
    case 'integer': {
      const text = String(raw).trim();
      const value = typeof raw === 'number' ? raw : /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < type.min || value > type.max) {
        throw configError(variable, shown, `a whole number from ${type.min} to ${type.max}${type.unit ? ` (${type.unit})` : ''}`);
      }
      return value;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(text)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(text)) return false;
      throw configError(variable, shown, 'true or false');
    }
    case 'choice': {
      const text = String(raw).trim();
      if (!type.choices.includes(text)) throw configError(variable, shown, `one of ${type.choices.join(', ')}`);
      return text;
    }
    case 'url': {
      const text = String(raw);
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw configError(variable, maskUrl(text), 'a URL such as redis://host:6379/0 or rediss://host:6380');
      }
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw configError(variable, maskUrl(text), 'a redis:// or rediss:// URL');
      return text;
    }
    case 'host-ports':
      return parseHostPorts(variable, raw as string | string[]);
    case 'list': {
      if (raw === '*' || Array.isArray(raw)) return raw;
      const text = String(raw).trim();
      return text === '*' ? '*' : text.split(',').map((k) => k.trim()).filter(Boolean);
    }
    case 'keys':
      return parseKeys(variable, raw);
    case 'path':
      return resolve(String(raw));
    case 'text': {
      const text = String(raw);
      if (spec.name === 'host' && (!text.trim() || /\s/.test(text))) throw configError(variable, shown, 'a host name or address');
      if (spec.name === 'keyPrefix') return validatePrefix(text);
      // Readers of fleet statistics refuse other names (another process's record is untrusted input).
      if (spec.name === 'serviceName' && !isServiceName(text)) {
        throw configError(variable, shown, "1-128 characters of letters, digits and @ . _ ~ / + : - (a package.json name fits), not a name every JavaScript object has (constructor, __proto__, ...)");
      }
      return text;
    }
  }
}
