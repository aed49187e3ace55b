import { describe, expect, it } from 'vitest';
import { parseInfo } from './redis-store.js';

// Abridged INFO replies, as each server prints them (Valkey 8.0.1 and Redis 7.0.15 on this machine).
const REDIS = ['# Server', 'redis_version:7.0.15', 'redis_mode:standalone', '# Clients', 'connected_clients:3', '# Memory', 'used_memory:1048576', 'maxmemory:0', 'maxmemory_policy:noeviction'].join('\r\n');
const VALKEY = ['# Server', 'redis_version:7.2.4', 'server_name:valkey', 'valkey_version:8.0.1', 'redis_mode:standalone', '# Clients', 'connected_clients:2'].join('\r\n');

describe('parseInfo', () => {
  it('reads a Redis version bare, as before', () => {
    const info = parseInfo(REDIS, 7);
    expect(info).toMatchObject({ version: '7.0.15', connectedClients: 3, usedMemoryBytes: 1048576, maxMemoryPolicy: 'noeviction', keys: 7 });
  });

  it("names Valkey with its own version, not the Redis version it reports for compatibility", () => {
    expect(parseInfo(VALKEY, 0).version).toBe('valkey 8.0.1');
  });

  it('names another server that says its name', () => {
    expect(parseInfo('redis_version:7.2.0\r\nserver_name:keydb\r\n', 0).version).toBe('keydb 7.2.0');
  });

  it('says unknown when the reply has no version', () => {
    expect(parseInfo('connected_clients:1\r\n', 0).version).toBe('unknown');
  });
});
