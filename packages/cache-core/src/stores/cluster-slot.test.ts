import { describe, expect, it } from 'vitest';
import { clusterSlot } from './cluster-slot.js';

describe('clusterSlot', () => {
  it('matches the slots Redis computes (CLUSTER KEYSLOT)', () => {
    // Values from redis-cli CLUSTER KEYSLOT on Redis 7.
    expect(clusterSlot('foo')).toBe(12182);
    expect(clusterSlot('bar')).toBe(5061);
    expect(clusterSlot('123456789')).toBe(12739);
    expect(clusterSlot('finrisk:prediction:CUST001:credit')).toBe(clusterSlot('finrisk:prediction:CUST001:credit'));
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(clusterSlot('{user1000}.following')).toBe(clusterSlot('user1000'));
    expect(clusterSlot('a{}b')).toBe(clusterSlot('a{}b'));
    expect(clusterSlot('a{}{b}')).not.toBe(clusterSlot('b'));
    expect(clusterSlot('x{tag}y')).toBe(clusterSlot('{tag}'));
  });
});
