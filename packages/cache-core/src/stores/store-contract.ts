import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheStore } from './store.js';

/**
 * The one contract every store fulfils, run against each of them (redis, memory, local, and
 * cluster) so that they cannot drift apart. `make` returns a connected store whose keys all
 * start with the given prefix; `teardown` releases what `make` started.
 */
export function describeStoreContract(
  name: string,
  make: (prefix: string) => Promise<CacheStore>,
  teardown: () => Promise<void> = async () => {},
): void {
  describe(`store contract: ${name}`, () => {
    let store: CacheStore;
    let n = 0;
    const prefix = `contract-${name}-${process.pid}-${Date.now()}:`;
    const k = (label: string) => `${prefix}${label}-${n++}`;
    const bytes = (text: string) => new Uint8Array(Buffer.from(text));
    const text = (value: Uint8Array | null) => (value === null ? null : Buffer.from(value).toString());
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    beforeAll(async () => {
      store = await make(prefix);
    });
    afterAll(async () => {
      await store?.close();
      await teardown();
    });

    it('reads back what it wrote, byte for byte', async () => {
      const key = k('bytes');
      const value = new Uint8Array([0, 255, 1, 254, 0, 10, 13]);
      expect(await store.set(key, value)).toBe(true);
      expect(Buffer.from((await store.get(key))!)).toEqual(Buffer.from(value));
    });

    it('returns null for a missing key', async () => {
      expect(await store.get(k('missing'))).toBeNull();
      expect(await store.exists(k('missing'))).toBe(false);
    });

    it('does not let a caller mutate what is cached through the buffer it passed', async () => {
      const key = k('mutate');
      const value = bytes('abc');
      await store.set(key, value);
      value[0] = 0x7a;
      expect(text(await store.get(key))).toBe('abc');
    });

    // TTLs are checked against the time measured around the calls: what is left is at most the TTL
    // and at least the TTL less the time elapsed since the write, on a fast machine and a slow one.
    // A short TTL is only ever read after it has surely passed, never "still there" right after.
    it('expires entries after their TTL', async () => {
      const kept = k('ttl');
      const start = Date.now();
      await store.set(kept, bytes('v'), { ttlMs: 60_000 });
      expect(await store.exists(kept)).toBe(true);
      const ttl = await store.ttl(kept);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(ttl).toBeGreaterThanOrEqual(60_000 - (Date.now() - start));
      const key = k('ttl');
      await store.set(key, bytes('v'), { ttlMs: 150 });
      await sleep(300);
      expect(await store.get(key)).toBeNull();
      expect(await store.exists(key)).toBe(false);
      expect(await store.ttl(key)).toBe(-2);
      expect(text(await store.get(kept))).toBe('v');
    });

    it('reports -1 for keys without expiry and -2 for missing keys', async () => {
      const key = k('persist');
      await store.set(key, bytes('v'));
      expect(await store.ttl(key)).toBe(-1);
      expect(await store.ttl(k('none'))).toBe(-2);
    });

    it('overwriting replaces the value and the TTL', async () => {
      const key = k('overwrite');
      await store.set(key, bytes('one'), { ttlMs: 60_000 });
      await store.set(key, bytes('two'));
      expect(text(await store.get(key))).toBe('two');
      expect(await store.ttl(key)).toBe(-1);
    });

    it('sets only absent keys with ifAbsent, and an expired key counts as absent', async () => {
      const key = k('nx');
      expect(await store.set(key, bytes('first'), { ifAbsent: true, ttlMs: 60_000 })).toBe(true);
      expect(await store.set(key, bytes('second'), { ifAbsent: true })).toBe(false);
      expect(text(await store.get(key))).toBe('first');
      // The same key given a short TTL: once it has surely passed, the key is absent again.
      expect(await store.expire(key, 100)).toBe(true);
      await sleep(250);
      expect(await store.set(key, bytes('third'), { ifAbsent: true })).toBe(true);
      expect(text(await store.get(key))).toBe('third');
    });

    it('deletes a key only when it holds the expected value', async () => {
      const key = k('cad');
      await store.set(key, bytes('token-a'));
      expect(await store.deleteIfEquals(key, bytes('token-b'))).toBe(false);
      expect(await store.exists(key)).toBe(true);
      expect(await store.deleteIfEquals(key, bytes('token-a'))).toBe(true);
      expect(await store.exists(key)).toBe(false);
    });

    it('reads and writes many keys in order', async () => {
      const keys = [k('m'), k('m'), k('m')];
      const start = Date.now();
      await store.setMany([
        { key: keys[0]!, value: bytes('a') },
        { key: keys[2]!, value: bytes('c'), ttlMs: 60_000 },
      ]);
      expect((await store.getMany(keys)).map(text)).toEqual(['a', null, 'c']);
      const ttl = await store.ttl(keys[2]!);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(ttl).toBeGreaterThanOrEqual(60_000 - (Date.now() - start));
      expect(await store.getMany([])).toEqual([]);
    });

    it('reads a large batch in order, misses included', async () => {
      // 2,501 keys: larger than the cache's 1,000-key chunks, and over many cluster slots.
      const keys = Array.from({ length: 2501 }, (_, i) => k(`big${i}`));
      await store.setMany(keys.filter((_, i) => i % 7 !== 3).map((key) => ({ key, value: bytes(key) })));
      const values = (await store.getMany(keys)).map(text);
      expect(values).toEqual(keys.map((key, i) => (i % 7 === 3 ? null : key)));
    });

    it('deletes keys and counts only those that existed', async () => {
      const a = k('del');
      const b = k('del');
      await store.set(a, bytes('x'));
      expect(await store.delete([a, b])).toBe(1);
      expect(await store.get(a)).toBeNull();
      expect(await store.delete([])).toBe(0);
    });

    it('reads and extends the TTL in one step (sliding expiry)', async () => {
      const key = k('touch');
      await store.set(key, bytes('s'), { ttlMs: 10_000 });
      const start = Date.now();
      expect(text(await store.getAndTouch(key, 600_000))).toBe('s');
      const ttl = await store.ttl(key);
      expect(ttl).toBeLessThanOrEqual(600_000);
      expect(ttl).toBeGreaterThanOrEqual(600_000 - (Date.now() - start));
      // The new TTL replaces the old one, shorter too: once it has surely passed, the key is gone.
      expect(text(await store.getAndTouch(key, 100))).toBe('s');
      await sleep(250);
      expect(await store.get(key)).toBeNull();
      expect(await store.getAndTouch(k('none'), 400)).toBeNull();
    });

    it('sets a TTL on an existing key and refuses a missing one', async () => {
      const key = k('expire');
      await store.set(key, bytes('e'));
      const start = Date.now();
      expect(await store.expire(key, 5000)).toBe(true);
      const ttl = await store.ttl(key);
      expect(ttl).toBeGreaterThanOrEqual(5000 - (Date.now() - start));
      expect(ttl).toBeLessThanOrEqual(5000);
      expect(await store.expire(k('none'), 5000)).toBe(false);
    });

    it('increments counters atomically', async () => {
      const key = k('counter');
      const results = await Promise.all(Array.from({ length: 20 }, () => store.incr(key)));
      expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await store.ttl(key)).toBe(-1);
    });

    it('scans and deletes by a literal prefix: glob characters are not patterns', async () => {
      const base = `${prefix}scan-${n++}:`;
      const literal = `${base}CUST[0-9]*?:`;
      const inside = [`${literal}a`, `${literal}b`];
      const outside = [`${base}CUST1:a`, `${base}CUSTx:a`, `${base}CUST[0-9]X:a`];
      for (const key of [...inside, ...outside]) await store.set(key, bytes('v'));
      const seen: string[] = [];
      for await (const batch of store.scan(literal, 1)) seen.push(...batch);
      expect(seen.sort()).toEqual([...inside].sort());
      expect(await store.deleteByPrefix(literal)).toBe(2);
      for (const key of outside) expect(await store.exists(key)).toBe(true);
      expect(await store.deleteByPrefix(base)).toBe(3);
    });

    it('scans more keys than one batch holds', async () => {
      const base = `${prefix}many-${n++}:`;
      await store.setMany(Array.from({ length: 250 }, (_, i) => ({ key: `${base}${i}`, value: bytes(String(i)) })));
      const seen = new Set<string>();
      for await (const batch of store.scan(base, 50)) for (const key of batch) seen.add(key);
      expect(seen.size).toBe(250);
      expect(await store.deleteByPrefix(base)).toBe(250);
    });

    it('keeps unicode keys apart', async () => {
      const a = `${prefix}客户-${n++}`;
      const b = `${a}é`;
      await store.set(a, bytes('a'));
      await store.set(b, bytes('b'));
      expect(text(await store.get(a))).toBe('a');
      expect(text(await store.get(b))).toBe('b');
    });

    it('stores large values', async () => {
      const key = k('large');
      const value = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 251);
      await store.set(key, value);
      expect(Buffer.compare(Buffer.from((await store.get(key))!), Buffer.from(value))).toBe(0);
      await store.delete([key]);
    });

    it('answers ping and info', async () => {
      expect(await store.ping()).toBeGreaterThanOrEqual(0);
      const info = await store.info();
      expect(info.keys).toBeGreaterThan(0);
      expect(info.connectedClients).toBeGreaterThanOrEqual(1);
      expect(info.keyspaceHits + info.keyspaceMisses).toBeGreaterThan(0);
    });
  });
}
