// A fuzz test (fast-check) of every read path of cache-core against what a forger, a broken writer
// or a bit flip could leave in Redis: random and mutated envelopes (valid headers with random
// bodies, truncated, flipped bytes), decompression bombs, escaped __proto__ keys and deep nesting,
// under SDK keys (plain, and with a keyring for every kind) and Python-layout keys, through a real
// redis-server. Each of get, getMany and getAndTouch must answer a value, a hit of null, or a miss
// with a clear error event; never throw into the caller, never hang, never hand back an own
// __proto__ key, never touch Object.prototype; and the three must agree on what the bytes are.
import { randomBytes } from 'node:crypto';
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { createClient } from '@redis/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache, type CacheErrorEvent, type CreateCacheOptions } from '../cache.js';
import { FinRiskCacheError } from '../errors.js';
import type { CacheKey } from '../keys.js';
import { bombs, hostileEnvelope, hostileJsonText } from './arbitraries.js';

/** The readers' value limit: the bombs below inflate past it (1 MiB + 1 byte up to 16 MiB of zeros). */
const LIMIT = 1024 * 1024;
/** A read that takes longer than this has hung (a case takes milliseconds; the machine may be slow). */
const CASE_DEADLINE_MS = 20_000;
const PAYLOAD_CODES = new Set(['E_PAYLOAD_CORRUPT', 'E_PAYLOAD_UNSUPPORTED']);
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

let server: RedisServer;
let raw: ReturnType<typeof createClient>;
const bombPayloads = bombs([LIMIT - 6 + 1, 4 * LIMIT, 16 * LIMIT]);

beforeAll(async () => {
  server = await startRedisServer();
  raw = createClient({ url: server.url });
  await raw.connect();
});
afterAll(async () => {
  await raw?.close();
  await server?.stop();
});

/** What one read answered: the kind of outcome, and the error events it caused. */
interface Answer {
  outcome: 'value' | 'null hit' | 'miss';
  errors: CacheErrorEvent[];
}

/** Runs a read with a deadline; an exception or a hang fails the property, naming the path. */
async function bounded<T>(path: string, read: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${path} did not answer within ${CASE_DEADLINE_MS} ms`)), CASE_DEADLINE_MS);
  });
  try {
    return await Promise.race([read(), hang]);
  } catch (error) {
    throw new Error(`${path} threw into the caller: ${String(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The size of `value` as a tree (a shared object counts at every place it appears): one per node,
 * plus the length of every string and key and the bytes of every binary value. A writer stores
 * each of these in at least as many bytes, so what a reader with a limit of `cap` bytes hands back
 * measures at most `cap`. Counting stops past `cap`; a reference back to an ancestor (a cycle)
 * counts one. Iterative: values may nest deeply.
 */
function measure(value: unknown, cap: number): number {
  let size = 0;
  const leaf = (v: unknown) => (typeof v === 'string' ? v.length : ArrayBuffer.isView(v) ? v.byteLength : 0);
  const childrenOf = (v: object): unknown[] =>
    v instanceof Map ? [...v].flat() : v instanceof Set ? [...v] : Array.isArray(v) ? v : Object.entries(v).flat();
  const ancestors = new Set<object>();
  const stack: { node: object; children: unknown[]; next: number }[] = [];
  const visit = (v: unknown) => {
    size += 1 + leaf(v);
    if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !ancestors.has(v)) {
      ancestors.add(v);
      stack.push({ node: v, children: childrenOf(v), next: 0 });
    }
  };
  visit(value);
  while (stack.length > 0 && size <= cap) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.children.length) visit(top.children[top.next++]);
    else {
      stack.pop();
      ancestors.delete(top.node);
    }
  }
  return size;
}

/** True when `value` holds an own `__proto__` key anywhere (walked without recursion: values may nest deeply). */
function holdsProtoKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v) || ArrayBuffer.isView(v)) continue;
    seen.add(v);
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return true;
    if (v instanceof Map) for (const [k, item] of v) stack.push(k, item);
    else if (v instanceof Set) for (const item of v) stack.push(item);
    else for (const key of Object.keys(v)) stack.push((v as Record<string, unknown>)[key]);
  }
  return false;
}

/** Reads `key` through get, getMany (twice in one batch) and getAndTouch, and checks each answer. */
async function readEveryWay(cache: Cache, errors: CacheErrorEvent[], key: CacheKey): Promise<void> {
  const answers: Answer[] = [];
  const answer = (path: string, value: unknown, hitsBefore: number, from: number): Answer => {
    const caused = errors.slice(from);
    const hits = (cache.processStats().byKind[key.kind]?.hits ?? 0) - hitsBefore;
    if (value !== null) {
      expect(caused, `${path} answered a value and reported errors`).toEqual([]);
      expect(holdsProtoKey(value), `${path} handed back an own __proto__ key`).toBe(false);
      expect(measure(value, LIMIT), `${path} handed back more than a writer with the limit can store`).toBeLessThanOrEqual(LIMIT);
      return { outcome: 'value', errors: caused };
    }
    if (caused.length === 0) {
      expect(hits, `${path} answered null without an error event, so it must be a stored null`).toBeGreaterThan(0);
      return { outcome: 'null hit', errors: caused };
    }
    for (const event of caused) {
      expect(PAYLOAD_CODES.has(event.error.code), `${path}: ${event.error.code} ${event.error.message}`).toBe(true);
      expect(FinRiskCacheError.isInstance(event.error)).toBe(true);
      expect(event.key).toBe(key.key);
      expect(event.error.message.length).toBeGreaterThan(0);
    }
    return { outcome: 'miss', errors: caused };
  };
  const hitsNow = () => cache.processStats().byKind[key.kind]?.hits ?? 0;

  let from = errors.length;
  let hits = hitsNow();
  const one = await bounded('get', () => cache.get(key));
  answers.push(answer('get', one, hits, from));

  from = errors.length;
  hits = hitsNow();
  const many = await bounded('getMany', () => cache.getMany([key, key]));
  expect(many).toHaveLength(2);
  // undefined is a value (the SDK stores it), not a miss: only null is.
  const manyAnswer = answer('getMany', many[0], hits, from);
  expect(many[1] === null, 'getMany answered the same key two ways').toBe(many[0] === null);
  if (manyAnswer.outcome === 'miss') expect(manyAnswer.errors).toHaveLength(2);
  answers.push(manyAnswer);

  from = errors.length;
  hits = hitsNow();
  const touched = await bounded('getAndTouch', () => cache.getAndTouch(key, { ttl: 600 }));
  answers.push(answer('getAndTouch', touched, hits, from));

  // The bytes are the same for the three reads: so is what they are.
  expect(answers.map((a) => a.outcome)).toEqual([answers[0]!.outcome, answers[0]!.outcome, answers[0]!.outcome]);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_NAMES);
  expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
}

function make(options: CreateCacheOptions): { cache: Cache; errors: CacheErrorEvent[] } {
  const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: uniquePrefix(), envFile: false, env: {}, maxValueBytes: LIMIT, ...options });
  const errors: CacheErrorEvent[] = [];
  cache.on('error', (e) => errors.push(e));
  return { cache, errors };
}

describe('hostile stored values: every read path answers a value, a miss with an error event, or a stored null', () => {
  it('under SDK keys (the envelope layout)', async () => {
    const { cache, errors } = make({});
    try {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(hostileEnvelope(bombPayloads), fc.constantFrom('kv', 'prediction', 'feature', 'model'), async (payload, kind) => {
          const key = cache.keys.key(kind, `case-${n++}`);
          await raw.set(key.key, payload);
          await readEveryWay(cache, errors, key);
        }),
        { numRuns: 300 },
      );
    } finally {
      await cache.close();
    }
  }, 600_000);

  it('under SDK keys with the L1 tier on (what L1 holds, and hands out on a second read, passed the same checks)', async () => {
    const { cache, errors } = make({ l1: { maxMb: 64 } });
    try {
      await cache.connect();
      for (let i = 0; cache.processStats().l1?.serving !== true; i++) {
        if (i > 500) throw new Error('L1 did not start serving');
        await new Promise((r) => setTimeout(r, 20));
      }
      let n = 0;
      await fc.assert(
        fc.asyncProperty(hostileEnvelope(bombPayloads), fc.constantFrom('prediction', 'feature', 'model'), async (payload, kind) => {
          const key = cache.keys.key(kind, `l1-case-${n++}`);
          await raw.set(key.key, payload);
          await cache.syncLocal();
          await readEveryWay(cache, errors, key);
          await readEveryWay(cache, errors, key);
        }),
        { numRuns: 200 },
      );
    } finally {
      await cache.close();
    }
  }, 600_000);

  it('under SDK keys with a keyring for every kind (strict), as stored and as encrypted by a keyring holder', async () => {
    const { cache, errors } = make({ encryption: { keys: { k1: randomBytes(32) }, kinds: '*' }, strict: true });
    const keyring = cache.config.keyring!;
    try {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(hostileEnvelope(bombPayloads), fc.boolean(), async (payload, encrypt) => {
          const key = cache.keys.key('prediction', `case-${n++}`);
          // A writer holding the key can encrypt anything: decoding behind the decryption is bounded too.
          await raw.set(key.key, encrypt && payload.byteLength >= 6 ? keyring.encrypt(payload, key.key) : payload);
          await readEveryWay(cache, errors, key);
        }),
        { numRuns: 300 },
      );
    } finally {
      await cache.close();
    }
  }, 600_000);

  it('under Python-layout keys (plain JSON text, or any bytes)', async () => {
    const { cache, errors } = make({ keyLayout: 'finrisk-python' });
    const stored = fc.oneof(
      hostileJsonText.map((text) => Buffer.from(text)),
      hostileEnvelope(bombPayloads),
    );
    try {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(stored, fc.boolean(), async (payload, feature) => {
          const id = `CUST-${uniquePrefix()}-${n++}`;
          const key: CacheKey = feature ? { kind: 'feature', key: `features:${id}`, format: 'json' } : { kind: 'prediction', key: `prediction:credit:${id}`, format: 'json' };
          await raw.set(key.key, payload);
          await readEveryWay(cache, errors, key);
        }),
        { numRuns: 300 },
      );
    } finally {
      await cache.close();
    }
  }, 600_000);
});
