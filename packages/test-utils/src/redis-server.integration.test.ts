import { describe, expect, it } from 'vitest';
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

  it('says clearly when redis-server is not installed', async () => {
    const previous = process.env.REDIS_SERVER_BIN;
    process.env.REDIS_SERVER_BIN = '/nonexistent/redis-server';
    try {
      const error = await startRedisServer().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisServerMissingError);
      expect((error as Error).message).toMatch(/\/nonexistent\/redis-server was not found.*apt-get install redis-server/);
    } finally {
      if (previous === undefined) delete process.env.REDIS_SERVER_BIN;
      else process.env.REDIS_SERVER_BIN = previous;
    }
  });
});
