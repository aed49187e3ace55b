import { describe, expect, it } from 'vitest';
import { clusterSlot } from './cluster-slot.js';

// Every expected slot below is what `CLUSTER KEYSLOT <key>` answered on a cluster-enabled
// redis-server 7 (topology.integration.test.ts also compares against a live cluster).
describe('clusterSlot', () => {
  it('matches the slots Redis computes (CLUSTER KEYSLOT)', () => {
    expect(clusterSlot('foo')).toBe(12182);
    expect(clusterSlot('bar')).toBe(5061);
    expect(clusterSlot('123456789')).toBe(12739);
    expect(clusterSlot('finrisk:prediction:CUST001:credit')).toBe(10676);
    // UTF-8 bytes, not UTF-16 code units, are hashed.
    expect(clusterSlot('clé-客户')).toBe(4472);
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(clusterSlot('{user1000}.following')).toBe(3443);
    expect(clusterSlot('user1000')).toBe(3443);
    expect(clusterSlot('x{tag}y')).toBe(8338);
    expect(clusterSlot('{tag}')).toBe(8338);
    expect(clusterSlot('tag')).toBe(8338);
    // An empty tag hashes the whole key, and only the first `{` counts: `a{}{b}` is not `b`.
    expect(clusterSlot('a{}b')).toBe(13694);
    expect(clusterSlot('a{}{b}')).toBe(15033);
    expect(clusterSlot('b')).toBe(3300);
    expect(clusterSlot('{}{b}')).toBe(8193);
    expect(clusterSlot('{}')).toBe(15257);
    // `{` inside the tag is part of it; an unclosed or reversed pair is no tag.
    expect(clusterSlot('{{a}}')).toBe(10276);
    expect(clusterSlot('a{b')).toBe(13340);
    expect(clusterSlot('a}b{')).toBe(6027);
  });
});
