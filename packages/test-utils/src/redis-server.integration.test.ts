import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { redisServerBin } from './redis-binaries.ts';
import { RedisServerMissingError, startRedisServer } from './redis-server.ts';

describe('startRedisServer', () => {
  it('starts a server of its own on a free port, restarts it on the same port, and stops it', async () => {
    const server = await startRedisServer();
    try {
      expect(server.port).not.toBe(6379);
      expect(server.cli('PING')).toBe('PONG');
      server.cli('SET', 'k', 'v');
      const port = server.port;
      await server.restart();
      expect(server.port).toBe(port);
      expect(server.cli('GET', 'k')).toBe(''); // no persistence: a restart starts empty
    } finally {
      await server.stop();
    }
    expect(() => server.cli('PING')).toThrow(/failed/);
  });

  it('says which server it is, as the binary FINRISK_REDIS_SERVER names does', async () => {
    // `redis-server --version` prints `Redis server v=7.0.15 ...`, `valkey-server --version` `Valkey server v=8.0.1 ...`.
    const banner = spawnSync(redisServerBin(), ['--version'], { encoding: 'utf8' }).stdout;
    const [, name, version] = /^(\w+) server v=(\S+)/.exec(banner) ?? [];
    const server = await startRedisServer();
    try {
      expect(server.identity()).toMatchObject({ name: name?.toLowerCase(), version });
    } finally {
      await server.stop();
    }
  });

  it('says clearly when the server binary is not installed', async () => {
    const previous = process.env.FINRISK_REDIS_SERVER;
    process.env.FINRISK_REDIS_SERVER = '/nonexistent/redis-server';
    try {
      const error = await startRedisServer().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisServerMissingError);
      expect((error as Error).message).toMatch(/\/nonexistent\/redis-server was not found.*apt-get install redis-server.*FINRISK_REDIS_SERVER/);
    } finally {
      if (previous === undefined) delete process.env.FINRISK_REDIS_SERVER;
      else process.env.FINRISK_REDIS_SERVER = previous;
    }
  });
});
