import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisCliBin, redisServerBin } from './redis-binaries.ts';

describe('which binaries the tests run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'finrisk-bins-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes FINRISK_REDIS_SERVER, then the former REDIS_SERVER_BIN, then redis-server on the PATH', () => {
    expect(redisServerBin({ FINRISK_REDIS_SERVER: '/a/valkey-server', REDIS_SERVER_BIN: '/b/redis-server' })).toBe('/a/valkey-server');
    expect(redisServerBin({ REDIS_SERVER_BIN: '/b/redis-server' })).toBe('/b/redis-server');
    expect(redisServerBin({ FINRISK_REDIS_SERVER: '' })).toBe('redis-server');
    expect(redisServerBin({})).toBe('redis-server');
  });

  it('uses the client beside the server (valkey-cli for valkey-server), FINRISK_REDIS_CLI when set, and refuses to guess', () => {
    writeFileSync(join(dir, 'valkey-server'), '');
    writeFileSync(join(dir, 'valkey-cli'), '');
    writeFileSync(join(dir, 'redis-cli'), '');
    expect(redisCliBin({ FINRISK_REDIS_SERVER: join(dir, 'valkey-server') })).toBe(join(dir, 'valkey-cli'));
    expect(redisCliBin({ FINRISK_REDIS_SERVER: join(dir, 'redis-server') })).toBe(join(dir, 'redis-cli'));
    expect(redisCliBin({ FINRISK_REDIS_SERVER: join(dir, 'valkey-server'), FINRISK_REDIS_CLI: '/c/redis-cli' })).toBe('/c/redis-cli');
    expect(redisCliBin({})).toBe('redis-cli');
    expect(() => redisCliBin({ FINRISK_REDIS_SERVER: '/nonexistent/bin/redis-server' })).toThrow(/no command-line client beside \/nonexistent\/bin\/redis-server.*FINRISK_REDIS_CLI/);
  });
});
