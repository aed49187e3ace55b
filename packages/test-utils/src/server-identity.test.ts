import { describe, expect, it } from 'vitest';
import { describeServer, isAtLeast, parseServerIdentity } from './server-identity.ts';

describe('parseServerIdentity', () => {
  it('names Redis by redis_version and Valkey by valkey_version, keeping the Redis version Valkey answers as', () => {
    const redis = parseServerIdentity('# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n');
    expect(redis).toEqual({ name: 'redis', version: '7.0.15', redisVersion: '7.0.15' });
    expect(describeServer(redis)).toBe('Redis 7.0.15');
    const valkey = parseServerIdentity('# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\n');
    expect(valkey).toEqual({ name: 'valkey', version: '8.0.1', redisVersion: '7.2.4' });
    expect(describeServer(valkey)).toBe('Valkey 8.0.1 (redis_version 7.2.4)');
    expect(() => parseServerIdentity('# Server\r\n')).toThrow(/no redis_version/);
  });

  it('compares versions by number, not as text', () => {
    expect(isAtLeast('7.10.0', '7.2.0')).toBe(true);
    expect(isAtLeast('7.2.0', '7.2.0')).toBe(true);
    expect(isAtLeast('7.0.15', '7.2.0')).toBe(false);
    expect(isAtLeast('8.0.0-rc1', '7.4.0')).toBe(true);
  });
});
