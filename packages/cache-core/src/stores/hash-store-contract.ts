import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isHashStore, type HashReadResult, type HashStore } from './hash-store.js';

/** The fields of a read that found a hash (or none); fails when the key held a plain value. */
function fieldsOf(read: HashReadResult | undefined): Map<string, Uint8Array> {
  if (!(read instanceof Map)) throw new Error(`expected the fields of a hash, got ${read === undefined ? 'nothing' : 'a plain value'}`);
  return read;
}
import type { CacheStore } from './store.js';

/**
 * The hash contract (hash-store.ts), run against every store beside the store contract, so that
 * the embedded stores, one Redis and a cluster cannot drift apart. `make` returns a connected
 * store; `teardown` releases what `make` started.
 */
export function describeHashStoreContract(
  name: string,
  make: (prefix: string) => Promise<CacheStore>,
  teardown: () => Promise<void> = async () => {},
): void {
  describe(`hash store contract: ${name}`, () => {
    let store: CacheStore & HashStore;
    let n = 0;
    const prefix = `hash-contract-${name}-${process.pid}-${Date.now()}:`;
    const k = (label: string) => `${prefix}${label}-${n++}`;
    const bytes = (text: string) => new Uint8Array(Buffer.from(text));
    const texts = (read: HashReadResult | undefined) => Object.fromEntries([...fieldsOf(read)].map(([f, v]) => [f, Buffer.from(v).toString()]));
    const write = (key: string, fields: Record<string, string>, ttlMs?: Record<string, number>) =>
      Object.entries(fields).map(([field, value]) => ({ field, value: bytes(value), ...(ttlMs?.[field] === undefined ? {} : { ttlMs: ttlMs[field] }) }));

    beforeAll(async () => {
      const made = await make(prefix);
      if (!isHashStore(made)) throw new Error(`the ${name} store has no hash operations`);
      store = made;
    });
    afterAll(async () => {
      await store?.close();
      await teardown();
    });

    it('updates some fields and keeps the others, reading some or all of them', async () => {
      const key = k('h');
      await store.hashWrite(key, write(key, { age: '35', income: '75000', txn: '1' }));
      await store.hashWrite(key, write(key, { txn: '2', last: '9.5' }));
      const [all] = await store.hashRead([key]);
      expect(texts(all)).toEqual({ age: '35', income: '75000', txn: '2', last: '9.5' });
      const [some] = await store.hashRead([key], ['income', 'missing', 'txn']);
      expect(texts(some)).toEqual({ income: '75000', txn: '2' });
      expect(fieldsOf((await store.hashRead([k('none')]))[0]).size).toBe(0);
      expect(fieldsOf((await store.hashRead([k('none')], ['a']))[0]).size).toBe(0);
    });

    it('replaces every field with replace, reads many keys in order, byte for byte', async () => {
      const a = k('h');
      const b = k('h');
      await store.hashWrite(a, write(a, { x: '1', y: '2' }));
      await store.hashWrite(a, write(a, { z: '3' }), { replace: true });
      const binary = new Uint8Array([0, 255, 13, 10, 0]);
      await store.hashWrite(b, [{ field: 'é字', value: binary }]);
      const [ra, missing, rb] = await store.hashRead([a, k('none'), b]);
      expect(texts(ra)).toEqual({ z: '3' });
      expect(fieldsOf(missing).size).toBe(0);
      expect(Buffer.from(fieldsOf(rb).get('é字')!)).toEqual(Buffer.from(binary));
    });

    it('does not let a caller change what is stored through the buffer it passed', async () => {
      const key = k('h');
      const value = bytes('abc');
      await store.hashWrite(key, [{ field: 'f', value }]);
      value[0] = 0x7a;
      expect(texts((await store.hashRead([key]))[0])).toEqual({ f: 'abc' });
    });

    it('deletes fields, and the key with its last one', async () => {
      const key = k('h');
      await store.hashWrite(key, write(key, { a: '1', b: '2' }));
      expect(await store.hashDelete(key, ['a', 'nope'])).toBe(1);
      expect(texts((await store.hashRead([key]))[0])).toEqual({ b: '2' });
      expect(await store.hashDelete(key, ['b'])).toBe(1);
      expect(await store.exists(key)).toBe(false);
    });

    it('refuses field names the store reserves', async () => {
      await expect(store.hashWrite(k('h'), [{ field: '\u0000exp', value: bytes('x') }])).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      await expect(store.hashWrite(k('h'), [{ field: '', value: bytes('x') }])).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    });

    it('keeps the TTL of the key, only ever lengthened by an update; replace sets it', async () => {
      const key = k('h');
      const start = Date.now();
      await store.hashWrite(key, write(key, { batch: '1' }), { ttlMs: 60_000 });
      await store.hashWrite(key, write(key, { stream: '1' }), { ttlMs: 5_000 });
      const ttl = await store.ttl(key);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(ttl).toBeGreaterThan(60_000 - (Date.now() - start) - 1);
      await store.hashWrite(key, write(key, { stream: '2' }), { ttlMs: 120_000 });
      expect(await store.ttl(key)).toBeGreaterThan(60_000);
      await store.hashWrite(key, write(key, { all: '1' }), { ttlMs: 5_000, replace: true });
      expect(await store.ttl(key)).toBeLessThanOrEqual(5_000);
      const persistent = k('h');
      await store.hashWrite(persistent, write(persistent, { a: '1' }));
      await store.hashWrite(persistent, write(persistent, { b: '1' }), { ttlMs: 5_000 });
      expect(await store.ttl(persistent)).toBe(-1);
    });

    it('expires a field past its own TTL while the others stay, and forgets a TTL a later write leaves out', async () => {
      const key = k('h');
      await store.hashWrite(key, write(key, { batch: 'b', stream: 's', other: 'o' }, { stream: 150, other: 150 }), { ttlMs: 60_000 });
      expect(texts((await store.hashRead([key]))[0])).toEqual({ batch: 'b', stream: 's', other: 'o' });
      // `other` written again without a TTL: it lives as long as the key now.
      await store.hashWrite(key, write(key, { other: 'o2' }));
      await vi.waitFor(async () => expect(texts((await store.hashRead([key]))[0])).toEqual({ batch: 'b', other: 'o2' }), { timeout: 5000, interval: 50 });
      expect(texts((await store.hashRead([key], ['stream', 'batch']))[0])).toEqual({ batch: 'b' });
      // A write prunes what expired: the field is gone from the server too, not only from reads.
      await store.hashWrite(key, write(key, { batch: 'b2' }));
      expect(texts((await store.hashRead([key]))[0])).toEqual({ batch: 'b2', other: 'o2' });
      expect(await store.hashDelete(key, ['stream'])).toBe(0);
    });

    it('loses no field when many writers update different fields of the same key at once', async () => {
      const key = k('h');
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => store.hashWrite(key, [{ field: `f${i % 8}`, value: bytes(String(i)) }, { field: `own${i}`, value: bytes('x') }])),
      );
      const [all] = await store.hashRead([key]);
      expect(fieldsOf(all).size).toBe(48);
    });

    it('converts a key holding a plain value only when it holds the value expected, keeping its TTL', async () => {
      const key = k('old');
      await store.set(key, bytes('old-format'), { ttlMs: 60_000 });
      expect(Buffer.from((await store.hashRead([key], ['a']))[0] as Uint8Array).toString()).toBe('old-format');
      expect(await store.hashWrite(key, write(key, { b: '2' }))).toBe(false);
      expect(await store.hashWrite(key, write(key, { b: '2' }), { convert: { expect: bytes('other'), fields: write(key, { a: '1' }) } })).toBe(false);
      expect(Buffer.from((await store.get(key))!).toString()).toBe('old-format');
      expect(await store.hashWrite(key, write(key, { b: '2' }), { convert: { expect: bytes('old-format'), fields: write(key, { a: '1', b: 'old' }) } })).toBe(true);
      expect(texts((await store.hashRead([key]))[0])).toEqual({ a: '1', b: '2' });
      expect(await store.ttl(key)).toBeGreaterThan(50_000);
      const replaced = k('old');
      await store.set(replaced, bytes('old-format'));
      expect(await store.hashWrite(replaced, write(replaced, { z: '1' }), { replace: true })).toBe(true);
      expect(texts((await store.hashRead([replaced]))[0])).toEqual({ z: '1' });
    });

    it('merges a JSON object into a stored one, value text kept exactly', async () => {
      const key = k('json');
      await store.set(key, bytes('{"age": 35, "income": 75000.12345678901, "tags": [], "nan": NaN, "caf\\u00e9": 1}'), { ttlMs: 60_000 });
      await store.jsonMerge(key, bytes('{"income": 80000, "café": 2, "txn_count_1h": 4}'), { ttlMs: 1_000 });
      const merged = JSON.parse(Buffer.from((await store.get(key))!).toString().replace('NaN', 'null')) as Record<string, unknown>;
      expect(merged).toEqual({ age: 35, income: 80000, tags: [], nan: null, café: 2, txn_count_1h: 4 });
      expect(Buffer.from((await store.get(key))!).toString()).toContain('NaN');
      expect(await store.ttl(key)).toBeGreaterThan(1_000);
      const fresh = k('json');
      await store.jsonMerge(fresh, bytes('{"a": 0.30000000000000004}'), { ttlMs: 60_000 });
      expect(Buffer.from((await store.get(fresh))!).toString()).toBe('{"a": 0.30000000000000004}');
      expect(await store.ttl(fresh)).toBeGreaterThan(0);
    });

    it('merges without losing a field when many writers merge into one JSON value at once', async () => {
      const key = k('json');
      await Promise.all(Array.from({ length: 30 }, (_, i) => store.jsonMerge(key, bytes(`{"f${i}": ${i}}`))));
      const merged = JSON.parse(Buffer.from((await store.get(key))!).toString()) as Record<string, number>;
      expect(Object.keys(merged)).toHaveLength(30);
    });

    it('refuses to merge into a value that is not a JSON object', async () => {
      const key = k('json');
      await store.set(key, bytes('[1, 2]'));
      await expect(store.jsonMerge(key, bytes('{"a": 1}'))).rejects.toMatchObject({ code: 'E_PAYLOAD_CORRUPT' });
      await expect(store.jsonMerge(k('json'), bytes('[1]'))).rejects.toMatchObject({ code: 'E_PAYLOAD_CORRUPT' });
    });
  });
}
