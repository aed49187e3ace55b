/** Which server answered: its own name and version, as INFO server gives them. */
export interface ServerIdentity {
  /** `valkey` when INFO server has `server_name:valkey` or a `valkey_version`, else `redis`. */
  readonly name: 'redis' | 'valkey';
  /** The server's own version: `valkey_version` on Valkey, `redis_version` on Redis. */
  readonly version: string;
  /**
   * `redis_version`: on Redis its version, on Valkey the Redis version it answers as (7.2.4 for
   * Valkey 7.2 to 8.x), which is what clients such as node-redis read.
   */
  readonly redisVersion: string;
}

/** `major.minor.patch` as three numbers (missing parts are 0; a suffix such as `-rc1` is ignored). */
export function versionParts(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((part) => Number.parseInt(part, 10) || 0);
  return [major, minor, patch];
}

/** True when `version` is `minimum` or later. */
export function isAtLeast(version: string, minimum: string): boolean {
  const a = versionParts(version);
  const b = versionParts(minimum);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

/** Reads the identity from the text of `INFO server`; throws when it has no `redis_version`. */
export function parseServerIdentity(info: string): ServerIdentity {
  const field = (name: string) => new RegExp(`^${name}:([^\\r\\n]*)`, 'm').exec(info)?.[1]?.trim();
  const redisVersion = field('redis_version');
  if (!redisVersion) throw new Error(`INFO server has no redis_version: ${info.slice(0, 200)}`);
  const valkeyVersion = field('valkey_version');
  const isValkey = field('server_name') === 'valkey' || valkeyVersion !== undefined;
  return isValkey
    ? { name: 'valkey', version: valkeyVersion ?? redisVersion, redisVersion }
    : { name: 'redis', version: redisVersion, redisVersion };
}

/** `Redis 7.0.15`, or `Valkey 8.0.1 (redis_version 7.2.4)`. */
export function describeServer(server: ServerIdentity): string {
  const name = server.name === 'valkey' ? 'Valkey' : 'Redis';
  return server.name === 'valkey' ? `${name} ${server.version} (redis_version ${server.redisVersion})` : `${name} ${server.version}`;
}
