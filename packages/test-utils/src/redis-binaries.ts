import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Which server the tests run against. The same suites run against Debian's Redis 7.0 (the CI's),
 * a Redis 7.4 or 8 and Valkey 8 by pointing one variable at another binary:
 *
 *     FINRISK_REDIS_SERVER=/opt/servers/valkey-8.0.1/bin/valkey-server pnpm test:integration
 *
 * `REDIS_SERVER_BIN`, the name this variable had before, is still read when the new one is unset.
 */
export const SERVER_VARIABLE = 'FINRISK_REDIS_SERVER';
/** The former name of {@link SERVER_VARIABLE}, read when that one is unset. */
export const LEGACY_SERVER_VARIABLE = 'REDIS_SERVER_BIN';
/** The `redis-cli` to use when the one beside the server binary is not wanted or not there. */
export const CLI_VARIABLE = 'FINRISK_REDIS_CLI';

type Env = Readonly<Record<string, string | undefined>>;

/** The server binary: `FINRISK_REDIS_SERVER`, else `REDIS_SERVER_BIN`, else `redis-server` on the PATH; read at each call. */
export function redisServerBin(env: Env = process.env): string {
  return env[SERVER_VARIABLE] || env[LEGACY_SERVER_VARIABLE] || 'redis-server';
}

/**
 * The command-line client that matches the server: `FINRISK_REDIS_CLI` when set; for a server
 * given by path, the client in the same directory (`valkey-server` → `valkey-cli`, else
 * `redis-cli`), since a cluster made by an older `redis-cli --cluster create` is not what the
 * server's own tool would make; for `redis-server` on the PATH, `redis-cli` on the PATH.
 * Throws when a server was given by path and no client sits beside it: a client picked from
 * elsewhere would be a silent mismatch.
 */
export function redisCliBin(env: Env = process.env): string {
  const explicit = env[CLI_VARIABLE];
  if (explicit) return explicit;
  const server = redisServerBin(env);
  if (!server.includes('/')) return 'redis-cli';
  const dir = dirname(server);
  const candidates = [basename(server).replace(/server$/, 'cli'), 'redis-cli', 'valkey-cli'];
  for (const name of candidates) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `no command-line client beside ${server} (looked for ${[...new Set(candidates)].join(', ')} in ${dir}); ` +
      `set ${CLI_VARIABLE} to the redis-cli or valkey-cli of the same build`,
  );
}

/** Runs the matching client (see {@link redisCliBin}) and returns its trimmed stdout; throws with its stderr on a non-zero exit. */
export function runCli(args: readonly string[], env: Env = process.env): string {
  const bin = redisCliBin(env);
  const result = spawnSync(bin, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${bin} did not run (${result.error.message}); set ${CLI_VARIABLE} to its path`);
  if (result.status !== 0) throw new Error(`${basename(bin)} ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
  return result.stdout.trim();
}
