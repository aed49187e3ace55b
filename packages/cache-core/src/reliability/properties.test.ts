// Property-based tests (fast-check) of the codec and of key building, without a server.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { Codec, decodeValue, encodeValue, readHeader } from '../codec.js';
import { FinRiskCacheError } from '../errors.js';
import { Keyring } from '../encryption.js';
import { decodeKeyPart, encodeKeyPart, KeySchema } from '../keys.js';
import { parsePythonJson } from '../python-json.js';
import { MemoryStore } from '../stores/memory-store.js';
import { anyId, anyValue, jsonValue, respell, spelling, valueWithProtoKey } from './arbitraries.js';

const keyring = new Keyring({ keys: { k1: randomBytes(32) } });
const schema = new KeySchema('finrisk');

describe('codec properties', () => {
  for (const [name, compressionThreshold] of [['uncompressed', 0], ['compressed from 16 bytes', 16]] as const) {
    it(`every accepted value round-trips exactly (${name}, with and without encryption)`, async () => {
      await fc.assert(
        fc.asyncProperty(anyValue, fc.boolean(), async (value, encrypt) => {
          const envelope = await encodeValue(value, { compressionThreshold });
          const stored = encrypt ? keyring.encrypt(envelope, 'finrisk:kv:k') : envelope;
          expect(readHeader(stored)?.encryption).toBe(encrypt ? 1 : 0);
          const back = await decodeValue(encrypt ? keyring.decrypt(stored, 'finrisk:kv:k') : stored);
          expect(back).toStrictEqual(value);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('plain JSON values come back as they went in, and compression is used when it pays', async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue, async (value) => {
        // fast-check generates own __proto__ keys; the API refuses those values (a prototype pollution risk).
        if (JSON.stringify(value).includes('"__proto__":')) {
          await expect(encodeValue(value)).rejects.toThrow(/__proto__/);
          return;
        }
        const envelope = await encodeValue(value, { compressionThreshold: 16 });
        expect(await decodeValue(envelope)).toStrictEqual(value);
      }),
      { numRuns: 300 },
    );
    const big = await encodeValue({ rows: Array.from({ length: 100 }, () => 'same text') }, { compressionThreshold: 16 });
    expect(readHeader(big)?.compression).toBe(1);
  });
});

/** The envelopes a forger could store for a JSON text: JSON and superjson codecs, plain and deflated. */
function envelopesOf(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const [codec, body] of [[Codec.json, text], [Codec.superjson, `{"json": ${text}}`]] as const) {
    out.push(Buffer.concat([Buffer.from([0xf1, 0x52, 1, codec, 0, 0]), Buffer.from(body)]));
    out.push(Buffer.concat([Buffer.from([0xf1, 0x52, 1, codec, 1, 0]), deflateRawSync(body)]));
  }
  return out;
}

const hasOwnProtoKey = (text: string) => JSON.stringify(JSON.parse(text)).includes('"__proto__":');

describe('__proto__ keys in any spelling', () => {
  it('a __proto__ key anywhere, with any of its characters spelled as \\u escapes, is refused by both codecs and by the Python layout', async () => {
    await fc.assert(
      fc.asyncProperty(valueWithProtoKey, spelling, async (value, { escapes, upper }) => {
        const text = respell(value, escapes, upper);
        expect(hasOwnProtoKey(text)).toBe(true); // JSON.parse makes it an own property
        for (const envelope of envelopesOf(text)) {
          const error = await decodeValue(envelope).then(() => undefined, (e: unknown) => e);
          expect(FinRiskCacheError.hasCode(error, 'E_PAYLOAD_CORRUPT'), text).toBe(true);
          expect((error as Error).message).toMatch(/__proto__ key is not allowed/);
        }
        expect(() => parsePythonJson(text), text).toThrow(/__proto__ key is not allowed/);
      }),
      { numRuns: 500 },
    );
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('spelling the characters of a value without such a key as escapes changes nothing that is read', async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue, spelling, async (value, { escapes, upper }) => {
        const text = respell(value, escapes, upper);
        fc.pre(!hasOwnProtoKey(text));
        const expected: unknown = JSON.parse(text);
        for (const envelope of envelopesOf(text)) expect(await decodeValue(envelope)).toStrictEqual(expected);
        expect(parsePythonJson(text)).toStrictEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('key properties', () => {
  it('encoding an id is injective and reversible', () => {
    fc.assert(
      fc.property(anyId, anyId, (a, b) => {
        expect(decodeKeyPart(encodeKeyPart(a))).toBe(a);
        expect(encodeKeyPart(a) === encodeKeyPart(b)).toBe(a === b);
        expect(encodeKeyPart(a)).not.toContain(':');
      }),
      { numRuns: 2000 },
    );
  });

  it('two different lists of parts never make the same key, and parse gives the parts back', () => {
    const parts = fc.array(anyId, { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        const ka = schema.key('prediction', ...a).key;
        expect(ka === schema.key('prediction', ...b).key).toBe(JSON.stringify(a) === JSON.stringify(b));
        expect(schema.parse('prediction', ka)).toEqual(a);
      }),
      { numRuns: 2000 },
    );
  });

  it("a prefix built from one id never reaches another id's keys (memory store)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(anyId, { minLength: 2, maxLength: 12 }), fc.nat(), async (ids, pick) => {
        const store = new MemoryStore();
        await store.connect();
        for (const id of ids) {
          await store.set(schema.key('feature', id, 'v1').key, Buffer.from(id));
          await store.set(schema.key('kv', id).key, Buffer.from(id));
        }
        const id = ids[pick % ids.length]!;
        const found: string[] = [];
        for await (const batch of store.scan(schema.prefixOf('feature', id))) found.push(...batch);
        expect(found).toEqual([schema.key('feature', id, 'v1').key]);
        // A generic string prefix is a literal start: exactly the ids that start with it.
        const literal: string[] = [];
        for await (const batch of store.scan(schema.key('kv', id).key)) literal.push(...batch);
        expect(literal.sort()).toEqual(ids.filter((other) => other.startsWith(id)).map((other) => schema.key('kv', other).key).sort());
        await store.close();
      }),
      { numRuns: 300 },
    );
  });
});
