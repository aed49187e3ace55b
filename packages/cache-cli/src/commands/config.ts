import { maskUrl, type CacheConfig, type ConfigSource } from '@finrisk/cache-core';
import type { CommandDefinition } from '../command-definition.js';
import { formatTable } from '../output/table.js';

/** One row of `config`: the variable, its value as shown, and where it came from. */
export interface ConfigRow {
  variable: string;
  /** Name of the setting in the library's options (`ttl.prediction` for TTLs). */
  setting: string;
  /** The value as text; passwords are masked, unset values are null. */
  value: string | null;
  /** default, .env, environment or flag. */
  source: 'default' | '.env' | 'environment' | 'flag';
}

const shownSource = (source: ConfigSource | undefined): ConfigRow['source'] => (source === 'option' ? 'flag' : source ?? 'default');

const hostPorts = (list: readonly { host: string; port: number }[] | undefined): string | undefined =>
  list?.map((n) => `${n.host}:${n.port}`).join(',');

/** Every setting of a resolved configuration, in the order an operator reads them, password masked. */
export function configRows(config: CacheConfig): ConfigRow[] {
  const row = (variable: string, setting: string, value: string | number | boolean | undefined): ConfigRow => ({
    variable,
    setting,
    value: value === undefined ? null : String(value),
    source: shownSource(config.sources[setting]),
  });
  return [
    row('REDIS_URL', 'url', config.url === undefined ? undefined : maskUrl(config.url)),
    row('REDIS_HOST', 'host', config.host),
    row('REDIS_PORT', 'port', config.port),
    row('REDIS_DB', 'db', config.db),
    row('REDIS_USERNAME', 'username', config.username),
    row('REDIS_PASSWORD', 'password', config.password === undefined ? undefined : '***'),
    row('REDIS_TLS_CA', 'tls.caFile', config.tls?.caFile),
    row('REDIS_TLS_CERT', 'tls.certFile', config.tls?.certFile),
    row('REDIS_TLS_KEY', 'tls.keyFile', config.tls?.keyFile),
    row('REDIS_TLS_SERVERNAME', 'tls.servername', config.tls?.servername),
    row('REDIS_CLUSTER_NODES', 'clusterNodes', hostPorts(config.clusterNodes)),
    row('REDIS_SENTINELS', 'sentinels', hostPorts(config.sentinels)),
    row('REDIS_SENTINEL_MASTER', 'sentinelMaster', config.sentinelMaster),
    row('CACHE_BACKEND', 'backend', config.backend),
    row('CACHE_LOCAL_PATH', 'localPath', config.localPath),
    row('CACHE_KEY_PREFIX', 'keyPrefix', config.keyPrefix),
    row('CACHE_KEY_LAYOUT', 'keyLayout', config.keyLayout),
    row('CACHE_PREDICTION_TTL', 'ttl.prediction', config.ttl.prediction),
    row('CACHE_FEATURE_TTL', 'ttl.feature', config.ttl.feature),
    row('CACHE_MODEL_TTL', 'ttl.model', config.ttl.model),
    row('CACHE_DATAFRAME_TTL', 'ttl.dataframe', config.ttl.dataframe),
    row('CACHE_DEFAULT_TTL', 'ttl.default', config.ttl.default),
    row('CACHE_COMMAND_TIMEOUT_MS', 'commandTimeoutMs', config.commandTimeoutMs),
    row('CACHE_CONNECT_TIMEOUT_MS', 'connectTimeoutMs', config.connectTimeoutMs),
    row('CACHE_COMPRESSION_THRESHOLD', 'compressionThreshold', config.compressionThreshold),
    row('CACHE_MAX_VALUE_BYTES', 'maxValueBytes', config.maxValueBytes),
    row('CACHE_STRICT', 'strict', config.strict),
    row('CACHE_BREAKER_THRESHOLD', 'breakerThreshold', config.breakerThreshold),
    row('CACHE_BREAKER_COOLDOWN_MS', 'breakerCooldownMs', config.breakerCooldownMs),
    // Key ids only: the keys themselves are never shown.
    row('CACHE_ENCRYPTION_KEYS', 'encryption', config.keyring ? `*** (active key id ${config.keyring.activeKeyId})` : undefined),
  ];
}

/** `config`: every setting, its value and where it came from, without connecting. */
export const configCommand: CommandDefinition = {
  name: 'config',
  summary: 'show every setting and where it came from (default, .env, environment, flag)',
  description:
    'Shows the configuration the other commands use: every setting, its value and its source ' +
    '(default, .env, environment or flag), with the password masked. It does not connect. ' +
    'An invalid value exits 2 naming the variable. The CLI always reports backend failures, whatever CACHE_STRICT says.',
  examples: ['finrisk-cache config', 'finrisk-cache config --port 6380', 'finrisk-cache config --json'],
  async run(ctx) {
    const config = ctx.config();
    const rows = configRows(config);
    ctx.out.result({ envFile: config.envFile ?? null, settings: rows }, () => {
      const c = ctx.out.colors;
      const table = formatTable(
        rows.map((r) => [r.variable, r.value ?? c.dim('(not set)'), r.source === 'default' ? c.dim(r.source) : c.cyan(r.source)]),
        { header: ['Setting', 'Value', 'Source'] },
      );
      return `${table}\n\n.env file: ${config.envFile ?? c.dim(`(none in ${ctx.io.cwd})`)}`;
    });
  },
};
