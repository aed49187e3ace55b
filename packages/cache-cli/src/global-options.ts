import { join } from 'node:path';
import { readEnvFile, type BackendName, type CacheOptions } from '@finrisk/cache-core';

/** Options every command accepts, before or after the command name. */
export interface GlobalOptions {
  /** Machine-readable output on stdout. */
  json?: boolean;
  /** Stack traces and the cache's error events on stderr. */
  debug?: boolean;
  /** `redis://` URL; wins over REDIS_URL, REDIS_HOST and REDIS_PORT. */
  url?: string;
  /** Redis host; wins over REDIS_HOST and the host of REDIS_URL. */
  host?: string;
  /** Redis port; wins over REDIS_PORT and the port of REDIS_URL. */
  port?: number;
  /** Redis database number; wins over REDIS_DB and the database of REDIS_URL. */
  db?: number;
  /** Backend: auto, redis, local or memory; wins over CACHE_BACKEND. */
  backend?: BackendName;
  /** Redis Cluster seed nodes, `host:port` each; wins over REDIS_CLUSTER_NODES. */
  clusterNodes?: string[];
  /** Sentinels, `host:port` each; wins over REDIS_SENTINELS (needs a master name). */
  sentinels?: string[];
  /** Name of the master the sentinels watch; wins over REDIS_SENTINEL_MASTER. */
  sentinelMaster?: string;
}

const CLUSTER_VARIABLES = ['REDIS_CLUSTER_NODES'];
const SENTINEL_VARIABLES = ['REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER'];

/** `env` without `names`: a flag that picks another topology must win over the variables of this one. */
function without(env: Record<string, string | undefined>, names: readonly string[]): Record<string, string | undefined> {
  if (!names.some((n) => env[n] !== undefined)) return env;
  const copy = { ...env };
  for (const name of names) delete copy[name];
  return copy;
}

/**
 * The cache options the command line asks for: flags over the environment over `.env` over the
 * defaults, as the library resolves them. A `--host`, `--port` or `--db` flag also overrides that
 * part of a REDIS_URL from the environment or `.env` (keeping its scheme and credentials),
 * because otherwise the URL would silently win over the flag. Likewise `--url`, `--host` or `--port`
 * set aside REDIS_CLUSTER_NODES and REDIS_SENTINELS from the environment, and `--cluster-nodes` and
 * `--sentinels` set aside each other's variables.
 */
export function cacheOptionsFromFlags(flags: GlobalOptions, env: Record<string, string | undefined>, cwd: string): CacheOptions {
  const envFile = join(cwd, '.env');
  // A flag naming one topology wins over the variables of the others (the library refuses both at once,
  // and a cluster or sentinel setting from the environment would otherwise beat --url).
  if (flags.clusterNodes !== undefined) env = without(env, SENTINEL_VARIABLES);
  if (flags.sentinels !== undefined || flags.sentinelMaster !== undefined) env = without(env, CLUSTER_VARIABLES);
  if (flags.url !== undefined || flags.host !== undefined || flags.port !== undefined) {
    if (flags.clusterNodes === undefined && flags.sentinels === undefined) env = without(env, [...CLUSTER_VARIABLES, ...SENTINEL_VARIABLES]);
  }
  const options: CacheOptions = { env, envFile };
  if (flags.url !== undefined) {
    options.url = flags.url;
  } else if (flags.host !== undefined || flags.port !== undefined || flags.db !== undefined) {
    const inherited = env.REDIS_URL || readEnvFile(envFile).REDIS_URL;
    if (inherited) {
      try {
        const url = new URL(inherited);
        if (flags.host !== undefined) url.hostname = flags.host;
        if (flags.port !== undefined) url.port = String(flags.port);
        if (flags.db !== undefined) url.pathname = `/${flags.db}`;
        options.url = url.toString();
      } catch {
        // An invalid REDIS_URL is reported by the configuration, naming the variable.
      }
    }
  }
  if (flags.host !== undefined) options.host = flags.host;
  if (flags.port !== undefined) options.port = flags.port;
  if (flags.db !== undefined) options.db = flags.db;
  if (flags.backend !== undefined) options.backend = flags.backend;
  if (flags.clusterNodes !== undefined) options.clusterNodes = flags.clusterNodes;
  if (flags.sentinels !== undefined) options.sentinels = flags.sentinels;
  if (flags.sentinelMaster !== undefined) options.sentinelMaster = flags.sentinelMaster;
  return options;
}
