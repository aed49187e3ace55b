import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Codec, Compression, decodeValue, encodeValue, HEADER_BYTES, readHeader, registerClass, serializeValue } from './codec.js';
import { FinRiskCacheError } from './errors.js';

const roundTrip = async (value: unknown) => decodeValue(await encodeValue(value));

class Scaler {
  constructor(public mean: number[] = [], public scale: Float64Array = new Float64Array()) {}
  transform(x: number[]): number[] {
    return x.map((v, i) => (v - this.mean[i]!) / this.scale[i]!);
  }
}
registerClass(Scaler);

describe('codec', () => {
  it.each<[string, unknown]>([
    ['object', { risk_score: 0.75, decision: 'approve', nested: { a: [1, 2, { b: null }] } }],
    ['array', [1, 'two', false, null]],
    ['string', 'hello ✓ 客户'],
    ['empty string', ''],
    ['number', 42.5],
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['-0', -0],
    ['true', true],
    ['null', null],
    ['Date', new Date('2024-01-15T10:00:00.123Z')],
    ['Map', new Map<unknown, unknown>([['a', 1], [2, { b: 3 }]])],
    ['Set', new Set([1, 'a'])],
    ['BigInt', 12345678901234567890n],
    ['Float64Array', new Float64Array([1.5, Number.NaN, -0, Infinity])],
    ['Int32Array', new Int32Array([1, -2, 3])],
    ['BigInt64Array', new BigInt64Array([1n, -2n])],
    ['nested typed array', { weights: new Float32Array([0.1, 0.2]), when: new Date(0) }],
    ['undefined field', { a: undefined, b: 1 }],
  ])('round-trips %s exactly', async (_name, value) => {
    expect(await roundTrip(value)).toStrictEqual(value);
  });

  it('keeps -0 and NaN inside objects', async () => {
    const out = (await roundTrip({ z: -0, n: Number.NaN })) as { z: number; n: number };
    expect(Object.is(out.z, -0)).toBe(true);
    expect(Number.isNaN(out.n)).toBe(true);
  });

  it('stores binary values as raw bytes, not text', async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const encoded = serializeValue(bytes);
    expect(readHeader(encoded)?.codec).toBe(Codec.bytes);
    expect([...encoded.subarray(6)]).toEqual([0, 1, 2, 255]);
    expect(await roundTrip(bytes)).toStrictEqual(bytes);
    const buffer = Buffer.from('raw');
    expect(Buffer.isBuffer(await roundTrip(buffer))).toBe(true);
  });

  it('uses plain JSON for plain values and superjson only when needed', () => {
    expect(readHeader(serializeValue({ a: 1 }))?.codec).toBe(Codec.json);
    expect(readHeader(serializeValue({ a: new Date(0) }))?.codec).toBe(Codec.superjson);
    expect(readHeader(serializeValue({ a: Number.NaN }))?.codec).toBe(Codec.superjson);
  });

  it('compresses large values and only when it pays', async () => {
    const big = { rows: Array.from({ length: 2000 }, (_, i) => ({ id: i, label: 'same text again' })) };
    const encoded = await encodeValue(big, { compressionThreshold: 1024 });
    expect(readHeader(encoded)?.compression).toBe(Compression.deflate);
    expect(encoded.byteLength).toBeLessThan(Buffer.byteLength(JSON.stringify(big)) / 4);
    expect(await decodeValue(encoded)).toStrictEqual(big);
    const random = new Uint8Array(8192).map(() => Math.floor(Math.random() * 256));
    expect(readHeader(await encodeValue(random, { compressionThreshold: 1024 }))?.compression).toBe(Compression.none);
    expect(readHeader(await encodeValue(big, { compressionThreshold: 1024, compress: false }))?.compression).toBe(Compression.none);
  });

  it('rebuilds registered classes with their methods', async () => {
    const out = (await roundTrip({ scaler: new Scaler([1, 2], new Float64Array([2, 4])) })) as { scaler: Scaler };
    expect(out.scaler).toBeInstanceOf(Scaler);
    expect(out.scaler.transform([3, 6])).toEqual([1, 1]);
  });

  it('refuses what cannot be stored, naming where it is', async () => {
    class Unregistered {
      x = 1;
    }
    await expect(encodeValue({ model: { enc: new Unregistered() } })).rejects.toThrow(/Unregistered at value\.model\.enc.*registerClass/);
    await expect(encodeValue({ f: () => 1 })).rejects.toThrow(/function at value\.f/);
    await expect(encodeValue(Symbol('s'))).rejects.toThrow(/symbol/);
  });

  it('refuses values over the size limit', async () => {
    const error = await encodeValue('x'.repeat(2000), { maxValueBytes: 1000, compressionThreshold: 0 }).catch((e: unknown) => e);
    expect(FinRiskCacheError.hasCode(error, 'E_PAYLOAD_TOO_LARGE')).toBe(true);
  });

  it('treats foreign, truncated, tampered and future payloads as errors with codes', async () => {
    const code = async (bytes: Uint8Array) => ((await decodeValue(bytes).catch((e: unknown) => e)) as FinRiskCacheError).code;
    expect(await code(Buffer.from('{"written":"by python"}'))).toBe('E_PAYLOAD_CORRUPT');
    expect(await code(Buffer.from([0xf1]))).toBe('E_PAYLOAD_CORRUPT');
    const good = await encodeValue({ a: 1 });
    expect(await code(good.subarray(0, good.length - 2))).toBe('E_PAYLOAD_CORRUPT');
    const future = Buffer.from(good);
    future[2] = 9;
    expect(await code(future)).toBe('E_PAYLOAD_UNSUPPORTED');
    const unknownCodec = Buffer.from(good);
    unknownCodec[3] = 77;
    expect(await code(unknownCodec)).toBe('E_PAYLOAD_UNSUPPORTED');
    const compressed = await encodeValue('y'.repeat(10_000), { compressionThreshold: 100 });
    compressed[compressed.length - 3] = compressed[compressed.length - 3]! ^ 0xff;
    expect(['E_PAYLOAD_CORRUPT']).toContain(await code(compressed));
  });

  it('does not build classes a payload names but the reader did not register', async () => {
    const payload = Buffer.concat([
      Buffer.from([0xf1, 0x52, 1, Codec.superjson, 0, 0]),
      Buffer.from(JSON.stringify({ json: { a: {} }, meta: { values: { a: [['class', 'Evil']] }, v: 1 } })),
    ]);
    const error = await decodeValue(payload).catch((e: unknown) => e);
    expect(FinRiskCacheError.hasCode(error, 'E_PAYLOAD_CORRUPT')).toBe(true);
  });

  it('refuses a JSON payload with a __proto__ key, which this SDK never writes', async () => {
    await expect(encodeValue(JSON.parse('{"__proto__": {"admin": true}}'))).rejects.toThrow(/__proto__/);
    for (const text of ['{"__proto__": {"admin": true}}', '[1, {"a": {"__proto__": null}}]']) {
      const payload = Buffer.concat([Buffer.from([0xf1, 0x52, 1, Codec.json, 0, 0]), Buffer.from(text)]);
      const error = await decodeValue(payload).catch((e: unknown) => e);
      expect(FinRiskCacheError.hasCode(error, 'E_PAYLOAD_CORRUPT')).toBe(true);
      expect((error as Error).message).toMatch(/__proto__/);
    }
    // The word as data is fine.
    expect(await decodeValue(await encodeValue({ note: '"__proto__"', list: ['__proto__'] }))).toEqual({ note: '"__proto__"', list: ['__proto__'] });
  });
});

/** An envelope of `codec` whose deflated body inflates to `body` (or to that many zero bytes). */
function deflated(codec: number, body: Buffer | number): Buffer {
  const plain = typeof body === 'number' ? Buffer.alloc(body) : body;
  return Buffer.concat([Buffer.from([0xf1, 0x52, 1, codec, Compression.deflate, 0]), deflateRawSync(plain, { level: 9 })]);
}

async function decodeError(payload: Uint8Array, maxValueBytes?: number): Promise<FinRiskCacheError> {
  const error = await decodeValue(payload, maxValueBytes === undefined ? {} : { maxValueBytes }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(FinRiskCacheError.isInstance(error), 'decodeValue should have refused the payload').toBe(true);
  return error as FinRiskCacheError;
}

describe('codec: the value size limit bounds what is written and what is inflated', () => {
  it('measures a value before compression on write, so a compressible value over the limit is refused', async () => {
    const text = 'z'.repeat(20_000); // deflates to a few dozen bytes
    const error = await encodeValue(text, { maxValueBytes: 16 * 1024, compressionThreshold: 1024 }).catch((e: unknown) => e);
    expect(FinRiskCacheError.hasCode(error, 'E_PAYLOAD_TOO_LARGE')).toBe(true);
    expect((error as Error).message).toMatch(/20008 bytes serialized \(before compression\); the limit is 16384/);
  });

  it('writes a value of exactly the limit and reads it back with the same limit, compressed or not', async () => {
    const limit = 10_000;
    const value = 'a'.repeat(limit - HEADER_BYTES - 2); // JSON adds the two quotes
    for (const compressionThreshold of [0, 16]) {
      const envelope = await encodeValue(value, { maxValueBytes: limit, compressionThreshold });
      expect(readHeader(envelope)?.compression).toBe(compressionThreshold === 0 ? Compression.none : Compression.deflate);
      expect(await decodeValue(envelope, { maxValueBytes: limit })).toBe(value);
    }
    await expect(encodeValue(`${value}a`, { maxValueBytes: limit, compressionThreshold: 16 })).rejects.toSatisfy((e) => FinRiskCacheError.hasCode(e, 'E_PAYLOAD_TOO_LARGE'));
  });

  it('refuses a body that inflates past the limit, on the calling thread and on the pool, naming the limit', async () => {
    const limit = 64 * 1024;
    // Exactly at the limit: read. One byte over: refused.
    expect(await decodeValue(deflated(Codec.bytes, limit - HEADER_BYTES), { maxValueBytes: limit })).toStrictEqual(new Uint8Array(limit - HEADER_BYTES));
    for (const codec of [Codec.json, Codec.superjson, Codec.bytes, Codec.buffer]) {
      const error = await decodeError(deflated(codec, limit - HEADER_BYTES + 1), limit);
      expect(error.code).toBe('E_PAYLOAD_CORRUPT');
      expect(error.message).toMatch(/inflates to more than the limit of 65536 bytes \(maxValueBytes \/ CACHE_MAX_VALUE_BYTES\)/);
    }
    // Random bytes do not compress: a deflated body over 64 KB is inflated on libuv's pool.
    const random = Buffer.from(Array.from({ length: 100_000 }, () => Math.floor(Math.random() * 256)));
    const onPool = deflated(Codec.bytes, random);
    expect(onPool.byteLength).toBeGreaterThan(64 * 1024);
    expect(await decodeValue(onPool, { maxValueBytes: 100_000 + HEADER_BYTES })).toStrictEqual(new Uint8Array(random));
    expect((await decodeError(onPool, 100_000 + HEADER_BYTES - 1)).message).toMatch(/inflates to more than the limit of 100005 bytes/);
  });

  // CPU-bound (deflating 128 MiB, then inflating up to the limit): under a second on an idle
  // machine, 6.6 s seen with both cores shared by 40 runnable processes. The bound is for that.
  it('refuses a deflated bomb under the default limit of 128 MiB without inflating it whole', { timeout: 60_000 }, async () => {
    // 128 MiB of zeros deflate to ~128 KB: header and body are 6 bytes over the default limit.
    const error = await decodeError(deflated(Codec.bytes, 128 * 1024 * 1024));
    expect(error.code).toBe('E_PAYLOAD_CORRUPT');
    expect(error.message).toMatch(/limit of 134217728 bytes/);
  });

  it('refuses an uncompressed value over the limit too, whatever its codec', async () => {
    const envelope = await encodeValue(Buffer.alloc(1000), { compressionThreshold: 0 });
    expect(await decodeValue(envelope, { maxValueBytes: 1006 })).toStrictEqual(Buffer.alloc(1000));
    expect((await decodeError(envelope, 1005)).message).toMatch(/stored value is 1006 bytes, more than the limit of 1005 bytes/);
  });

  it('reports a body that is not deflate as corrupt, not as too large', async () => {
    const payload = Buffer.concat([Buffer.from([0xf1, 0x52, 1, Codec.json, Compression.deflate, 0]), Buffer.from('not deflate at all')]);
    const error = await decodeError(payload);
    expect(error.code).toBe('E_PAYLOAD_CORRUPT');
    expect(error.message).toMatch(/does not decompress/);
  });
});

/** A superjson payload of `levels` arrays, each holding two references to the one before: 2^levels nodes as a tree. */
function laughs(levels: number): Buffer {
  const json: Record<string, unknown> = { l0: { x: 1 } };
  const equalities: Record<string, string[]> = {};
  for (let i = 1; i <= levels; i++) {
    json[`l${i}`] = [null, null];
    equalities[`l${i - 1}`] = [`l${i}.0`, `l${i}.1`];
  }
  return Buffer.concat([Buffer.from([0xf1, 0x52, 1, Codec.superjson, 0, 0]), Buffer.from(JSON.stringify({ json, meta: { referentialEqualities: equalities, v: 1 } }))]);
}

describe('codec: shared references cannot expand past the limit', () => {
  it('refuses a payload whose shared references expand to more nodes than the limit (1.3 KB to 2^31 nodes)', async () => {
    const payload = laughs(30);
    expect(payload.byteLength).toBeLessThan(2000);
    const error = await decodeError(payload);
    expect(error.code).toBe('E_PAYLOAD_CORRUPT');
    expect(error.message).toMatch(/repeats shared objects past the limit of 134217728 bytes/);
    // A few levels expand to little: read, with the references shared.
    const small = (await decodeValue(laughs(4))) as Record<string, unknown[]>;
    expect(small.l4![0]).toBe(small.l4![1]);
    expect(small.l4![0]).toBe(small.l3);
  });

  it('reads back shared and circular values a writer stored, up to the limit', async () => {
    const shared = { weights: Array.from({ length: 1000 }, (_, i) => i) };
    const value = { a: shared, b: shared, c: [shared, shared], at: new Date(0) };
    const envelope = await encodeValue(value, { compressionThreshold: 0 });
    const back = (await decodeValue(envelope, { maxValueBytes: envelope.byteLength })) as typeof value;
    expect(back).toStrictEqual(value);
    expect(back.a).toBe(back.b);
    const circular: Record<string, unknown> = { n: 1, at: new Date(0) };
    circular.self = circular;
    const cycle = (await decodeValue(await encodeValue(circular))) as Record<string, unknown>;
    expect(cycle.self).toBe(cycle);
  });
});

/** `{"__proto__": ...}` with the characters at `escaped` spelled as JSON escapes (hex in `upper` case or not). */
function protoKey(escaped: readonly number[], upper = false): string {
  return [...'__proto__']
    .map((c, i) => (escaped.includes(i) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')[upper ? 'toUpperCase' : 'toLowerCase']()}` : c))
    .join('');
}

describe('codec: __proto__ keys are refused in any spelling', () => {
  const spellings = [
    protoKey([0]), // "\u005f_proto__", the spelling of the report
    protoKey([0], true), // "\u005F_proto__"
    protoKey([2]), // "__\u0070roto__"
    protoKey([3, 4, 5, 6]),
    protoKey([8]),
    protoKey([0, 1, 2, 3, 4, 5, 6, 7, 8], true),
  ];
  const envelope = (codec: number, text: string) => Buffer.concat([Buffer.from([0xf1, 0x52, 1, codec, 0, 0]), Buffer.from(text)]);

  it.each(spellings)('refuses the key spelled "%s" in JSON and superjson payloads, at any depth, compressed or not', async (key) => {
    const texts = [
      [Codec.json, `{"age": 1, "${key}": {"isAdmin": true}}`],
      [Codec.json, `[1, {"a": {"${key}": null}}]`],
      [Codec.superjson, `{"json": {"age": 1, "${key}": {"isAdmin": true}}}`],
      [Codec.superjson, `{"json": {"a": [{"${key}": {"isAdmin": true}}]}, "meta": {"values": {"a": ["set"]}, "v": 1}}`],
    ] as const;
    for (const [codec, text] of texts) {
      // The unescaped text is what JSON.parse would make of it: an own __proto__ key.
      expect(JSON.stringify(JSON.parse(text))).toContain('"__proto__"');
      for (const payload of [envelope(codec, text), deflated(codec, Buffer.from(text))]) {
        const error = await decodeError(payload);
        expect(error.code, text).toBe('E_PAYLOAD_CORRUPT');
        expect(error.message).toMatch(/__proto__ key is not allowed/);
      }
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('reads escapes that spell __proto__ as data, and escapes of other characters, as they are', async () => {
    const text = `{"note": "${protoKey([0])}", "list": ["${protoKey([2])}"], "name": "Jos\\u00e9", "\\u0061ge": 1, "path": "C:\\\\u005f"}`;
    expect(await decodeValue(envelope(Codec.json, text))).toStrictEqual({ note: '__proto__', list: ['__proto__'], name: 'José', age: 1, path: 'C:\\u005f' });
  });

  it('refuses a payload nested too deeply for the guard to walk, as corrupt', async () => {
    const depth = 200_000;
    const deep = `${'['.repeat(depth)}"\\u005f"${']'.repeat(depth)}`;
    const error = await decodeError(envelope(Codec.json, deep));
    expect(error.code).toBe('E_PAYLOAD_CORRUPT');
    expect(error.message).toMatch(/nests too deeply/);
  });
});
