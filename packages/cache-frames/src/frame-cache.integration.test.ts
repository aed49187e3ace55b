import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCache, getCache, resetCache, type Cache } from '@finrisk/cache-core';
import { topologies, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { dictionary, int32, utf8 } from '@uwdata/flechette';
import {
  DateDay, Dictionary, Float64, Int32, Int64, Int8, TimeUnit, Timestamp, Utf8, makeVector, tableToIPC, vectorFromArray, Table as ArrowTable,
} from 'apache-arrow';
import * as aq from 'arquero';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cacheDataFrame, deleteDataFrame, getCachedDataFrame, getDataFrameInfo, listDataFrames } from './default-frame-cache.js';
import { FrameError } from './errors.js';
import { createFrameCache, type FrameCache } from './frame-cache.js';
import type { FrameErrorEvent } from './frame-context.js';
import { readTableFile, writeTableFile } from './table-files.js';

const dir = mkdtempSync(join(tmpdir(), 'frames-int-'));

// Every suite on one server and on a 6-node cluster.
describe.each(topologies)('frames on Redis ($name)', (topology) => {
  let deployment: RedisDeployment;
  let cache: Cache;
  let frames: FrameCache;
  let prefix: string;

  beforeAll(async () => {
    deployment = await topology.start();
  });
  afterAll(async () => {
    await cache?.close();
    await resetCache();
    await deployment?.stop();
  });

  function fresh(options: Parameters<typeof createFrameCache>[1] = {}): FrameCache {
    prefix = uniquePrefix('frames');
    cache = createCache({ ...deployment.connection, backend: 'redis', keyPrefix: prefix, commandTimeoutMs: 10_000, envFile: false });
    frames = createFrameCache(cache, options);
    return frames;
  }
  afterEach(async () => {
    await cache?.close();
  });

  const keysOf = (name: string) => deployment.keys(`${prefix}:dataframe:${name}:*`);
  const chunkKeysOf = (name: string) => keysOf(name).filter((k) => k.includes(':chunk:'));
  const caught = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

  function everyType() {
    return aq.table({
      int: [1, -2, null, 2147483647],
      int64: [2 ** 40, null, -(2 ** 50), 0],
      bigint: [1n, null, 2n ** 62n, -5n],
      float: [1.5, -0, null, Number.NaN],
      inf: [Infinity, -Infinity, 0.1, null],
      text: ['plain', 'é ünï 😀', null, ''],
      flag: [true, false, null, true],
      day: [new Date('2024-01-15T00:00:00Z'), null, new Date('1969-12-31T00:00:00Z'), new Date('2000-02-29T00:00:00Z')],
      ts: [new Date('2024-01-15T10:30:00.123Z'), new Date(0), null, new Date('1950-06-01T12:00:00Z')],
      nothing: [null, null, null, null],
    });
  }

  describe('cacheDataFrame / getCachedDataFrame', () => {
    it('round-trips every column type with its values and Arrow type', async () => {
      fresh();
      const table = everyType();
      expect(await frames.cacheDataFrame('types', table)).toBe(true);
      const back = await frames.getCachedDataFrame('types');
      expect(back).not.toBeNull();
      expect(back!.columnNames()).toEqual(table.columnNames());
      for (const name of table.columnNames()) {
        expect(back!.array(name), name).toEqual(table.array(name));
      }
      expect(Object.is(back!.get('float', 1), -0)).toBe(true);
      const info = await frames.getDataFrameInfo('types');
      expect(Object.fromEntries(info!.columns.map((c) => [c.name, c.type]))).toEqual({
        int: 'int32', int64: 'int64', bigint: 'int64', float: 'float64', inf: 'float64', text: 'utf8', flag: 'bool',
        day: 'date32[day]', ts: 'timestamp[ms, UTC]', nothing: 'null',
      });
      expect(typeof back!.get('bigint', 0)).toBe('bigint');
      expect(typeof back!.get('int64', 0)).toBe('number');
    });

    it('keeps dictionary-encoded strings as dictionaries, and explicit types', async () => {
      fresh();
      const table = aq.table({ region: ['north', 'south', null, 'north'], id: ['a', 'b', 'c', 'd'] });
      expect(await frames.cacheDataFrame('dict', table, { types: { region: dictionary(utf8()) } })).toBe(true);
      const back = await frames.getCachedDataFrame('dict');
      expect(back!.array('region')).toEqual(['north', 'south', null, 'north']);
      expect((await frames.getDataFrameInfo('dict'))!.columns[0]!.type).toBe('dictionary<utf8, int32>');
      // Read back and cached again: the dictionary column is still one.
      expect(await frames.cacheDataFrame('dict2', back!)).toBe(true);
      expect((await frames.getDataFrameInfo('dict2'))!.columns[0]!.type).toBe('dictionary<utf8, int32>');
      expect((await frames.getCachedDataFrame('dict2'))!.objects()).toEqual(table.objects());
    });

    it('reads back a dictionary column of several record batches with nulls exactly (arquero 8.0 nulled up to 8 rows after each batch)', async () => {
      fresh({ chunkBytes: 16 * 1024 });
      const n = 40_000;
      const region = Array.from({ length: n }, (_, i) => (i % 13 === 0 ? null : ['north', 'south', 'east'][i % 3]!));
      expect(await frames.cacheDataFrame('dict-batches', aq.table({ region }), { types: { region: dictionary(utf8()) } })).toBe(true);
      expect((await frames.getDataFrameInfo('dict-batches'))!.chunks).toBeGreaterThan(1);
      expect((await frames.getCachedDataFrame('dict-batches'))!.array('region')).toEqual(region);
    });

    it('caches a table written by apache-arrow and reads it back intact', async () => {
      fresh();
      const arrow = new ArrowTable({
        id: vectorFromArray([1, 2, 3, null], new Int32()),
        small: vectorFromArray([1, -1, 127, null], new Int8()),
        big: vectorFromArray([10n, 9007199254740993n, null, -1n], new Int64()),
        score: vectorFromArray([0.25, null, 3.5, -1], new Float64()),
        name: vectorFromArray(['a', null, 'ç', 'd'], new Utf8()),
        segment: vectorFromArray(['retail', 'corporate', 'retail', null], new Dictionary(new Utf8(), new Int32())),
        opened: vectorFromArray([new Date('2024-01-15T00:00:00Z'), null, new Date('2020-02-29T00:00:00Z'), new Date(0)], new DateDay()),
        at: makeVector({ type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'), data: BigInt64Array.from([1_700_000_000_123_456n, 0n, 5n, 1n]) }),
      });
      const table = aq.fromArrow(tableToIPC(arrow, 'stream'), { useBigInt: true } as never);
      expect(await frames.cacheDataFrame('from-apache-arrow', table)).toBe(true);
      const back = await frames.getCachedDataFrame('from-apache-arrow');
      expect(back!.objects()).toEqual(table.objects());
      const types = Object.fromEntries((await frames.getDataFrameInfo('from-apache-arrow'))!.columns.map((c) => [c.name, c.type]));
      expect(types).toEqual({
        id: 'int32', small: 'int8', big: 'int64', score: 'float64', name: 'utf8', segment: 'dictionary<utf8, int32>',
        opened: 'date32[day]', at: 'timestamp[us, UTC]',
      });
      expect(back!.get('big', 1)).toBe(9007199254740993n);
    });

    it('splits a large table into many chunks and reads it back whole', async () => {
      fresh({ chunkBytes: 64 * 1024, maxBytesInFlight: 256 * 1024 });
      const n = 50_000;
      const table = aq.table({
        id: Array.from({ length: n }, (_, i) => i),
        text: Array.from({ length: n }, (_, i) => `row-${i}-${'x'.repeat(i % 7)}`),
        amount: Float64Array.from({ length: n }, (_, i) => i / 3),
      });
      expect(await frames.cacheDataFrame('large', table)).toBe(true);
      const info = await frames.getDataFrameInfo('large');
      expect(info!.chunks).toBeGreaterThan(10);
      expect(info!.columns.every((c) => c.chunks >= 2)).toBe(true);
      const back = await frames.getCachedDataFrame('large');
      expect(back!.numRows()).toBe(n);
      expect(back!.array('text')).toEqual(table.array('text'));
      expect(Array.from(back!.array('amount'))).toEqual(Array.from(table.array('amount')));
      expect(chunkKeysOf('large')).toHaveLength(info!.chunks);
      // No shared hash tag: on a cluster a big table's chunks spread over every master.
      const holding = deployment.masters().filter((m) => m.cli('--scan', '--pattern', `${prefix}:dataframe:large:chunk:*`) !== '');
      expect(holding).toHaveLength(deployment.masters().length);
    });

    it('reads a subset of columns without transferring the others', async () => {
      fresh({ chunkBytes: 256 * 1024 });
      const n = 100_000;
      const table = aq.table({ small: Int32Array.from({ length: n }, (_, i) => i), wide: Array.from({ length: n }, (_, i) => `${'w'.repeat(40)}${i}`) });
      await frames.cacheDataFrame('subset', table);
      const info = (await frames.getDataFrameInfo('subset'))!;
      const smallBytes = info.columns[0]!.bytes;
      const wideBytes = info.columns[1]!.bytes;
      const outBytes = () => deployment.stat('total_net_output_bytes');
      let before = outBytes();
      const part = await frames.getCachedDataFrame('subset', { columns: ['small'] });
      const subsetTransfer = outBytes() - before;
      expect(part!.columnNames()).toEqual(['small']);
      expect(Array.from(part!.array('small'))).toEqual(Array.from(table.array('small')));
      expect(subsetTransfer).toBeGreaterThanOrEqual(smallBytes);
      expect(subsetTransfer).toBeLessThan(smallBytes + 64 * 1024);
      before = outBytes();
      await frames.getCachedDataFrame('subset');
      expect(outBytes() - before).toBeGreaterThanOrEqual(smallBytes + wideBytes);
      await expect(frames.getCachedDataFrame('subset', { columns: ['nope'] })).rejects.toThrow(/has no column "nope"/);
    });
  });

  describe('versions and failures', () => {
    it('an interrupted write (chunks stored, manifest not switched) leaves the old table readable', async () => {
      fresh({ chunkBytes: 16 * 1024 });
      const v1 = aq.table({ v: Array.from({ length: 10_000 }, () => 'one') });
      const v2 = aq.table({ v: Array.from({ length: 20_000 }, () => 'two'), extra: Array.from({ length: 20_000 }, (_, i) => i) });
      await frames.cacheDataFrame('swap', v1);
      const firstVersion = (await frames.getDataFrameInfo('swap'))!.version;
      const staged = await frames.stage('swap', v2);
      expect(staged).not.toBeNull();
      // The writer stops here: its chunks are in Redis, the manifest is not switched.
      for (const key of staged!.chunkKeys) expect(deployment.cli('EXISTS', key.key)).toBe('1');
      const during = await frames.getCachedDataFrame('swap');
      expect(during!.numRows()).toBe(10_000);
      expect(during!.columnNames()).toEqual(['v']);
      expect((await frames.getDataFrameInfo('swap'))!.version).toBe(firstVersion);
      // Finishing the write switches to the new version and removes the old chunks.
      expect(await staged!.commit()).toBe(true);
      const after = await frames.getCachedDataFrame('swap');
      expect(after!.numRows()).toBe(20_000);
      expect(chunkKeysOf('swap').every((k) => k.includes(`:chunk:${staged!.manifest.version}:`))).toBe(true);
      expect(chunkKeysOf('swap').length).toBe(staged!.chunkKeys.length);
    });

    it('a missing or corrupt chunk is a miss and an error event, never a wrong table', async () => {
      fresh({ chunkBytes: 16 * 1024 });
      const events: FrameErrorEvent[] = [];
      frames.on('error', (e) => events.push(e));
      const atCache: string[] = [];
      cache.on('error', (e) => atCache.push(`${e.kind}:${e.error.code}`));
      await frames.cacheDataFrame('fragile', aq.table({ x: Array.from({ length: 10_000 }, (_, i) => i * 2) }));
      const [first, second] = chunkKeysOf('fragile').sort();
      // Same length, one bit flipped: only the checksum can tell.
      const raw = deployment.cli('--no-raw', 'GETRANGE', second!, '0', '-1');
      expect(raw.length).toBeGreaterThan(0);
      const client = (await cache.getRedisClient())!;
      const bytes = (await client.withTypeMapping({ 36: Buffer } as never).get(second!)) as unknown as Buffer;
      bytes[bytes.length - 3]! ^= 0x01;
      await client.set(second!, bytes, { KEEPTTL: true } as never);
      expect(await frames.getCachedDataFrame('fragile')).toBeNull();
      expect(events.at(-1)!.error.reason).toBe('CHUNK_CORRUPT');
      await client.del(first!);
      expect(await frames.getCachedDataFrame('fragile')).toBeNull();
      expect(events.at(-1)!.error.reason).toBe('CHUNK_MISSING');
      expect(events.at(-1)!.key).toBe(first);
      // the cache's own listeners (services, metrics) hear both
      expect(atCache).toHaveLength(2);
      expect(atCache.every((e) => e.startsWith('dataframe:'))).toBe(true);
    });

    it('sets the TTL on the manifest and every chunk, on the server', async () => {
      fresh({ chunkBytes: 16 * 1024 });
      // What is left of a TTL is at most the TTL and at least the TTL less the time since the
      // write began: bounds that hold on a fast machine and a slow one alike.
      const expectLeft = (left: number, ttlMs: number, start: number, what: string) => {
        expect(left, what).toBeLessThanOrEqual(ttlMs);
        expect(left, what).toBeGreaterThanOrEqual(ttlMs - (Date.now() - start));
      };
      let start = Date.now();
      await frames.cacheDataFrame('ttl', aq.table({ x: Array.from({ length: 10_000 }, (_, i) => i) }), { ttl: 100 });
      expectLeft(Number(deployment.cli('PTTL', `${prefix}:dataframe:ttl:manifest`)), 100_000, start, 'manifest');
      const chunks = chunkKeysOf('ttl');
      expect(chunks.length).toBeGreaterThan(1);
      // Chunks outlive the manifest by the 60 s grace period.
      for (const key of chunks) expectLeft(Number(deployment.cli('PTTL', key)), 160_000, start, key);
      const info = await frames.getDataFrameInfo('ttl');
      expectLeft(info!.expiresAt!.getTime() - Date.now(), 100_000, start, 'expiresAt');
      start = Date.now();
      await frames.cacheDataFrame('default-ttl', aq.table({ x: [1] }));
      expectLeft(Number(deployment.cli('PTTL', `${prefix}:dataframe:default-ttl:manifest`)), 7_200_000, start, 'default');
    });

    it('lists, describes and deletes tables, names with ":" included, and "*" never matches', async () => {
      fresh();
      await frames.cacheDataFrame('customer_data', aq.table({ a: [1, 2, 3] }));
      await frames.cacheDataFrame('q1:report', aq.table({ b: ['x'] }));
      await frames.cacheDataFrame('customer', aq.table({ c: [true] }));
      expect(await frames.listDataFrames()).toEqual(['customer', 'customer_data', 'q1:report']);
      const info = await frames.getDataFrameInfo('customer_data');
      expect(info).toMatchObject({ name: 'customer_data', rows: 3, chunks: 1, compression: 'none' });
      expect(info!.columns).toEqual([{ name: 'a', type: 'int32', nullCount: 0, bytes: info!.bytes, chunks: 1 }]);
      expect(info!.writtenAt.getTime()).toBeLessThanOrEqual(Date.now());
      await expect(frames.deleteDataFrame('customer*')).rejects.toThrow(FrameError);
      expect(await frames.deleteDataFrame('customer')).toBe(true);
      expect(await frames.deleteDataFrame('customer')).toBe(false);
      expect(await frames.getCachedDataFrame('customer')).toBeNull();
      expect(keysOf('customer')).toEqual([]);
      expect(await frames.listDataFrames()).toEqual(['customer_data', 'q1:report']);
      expect((await frames.getCachedDataFrame('q1:report'))!.objects()).toEqual([{ b: 'x' }]);
      expect(await frames.getDataFrameInfo('missing')).toBeNull();
    });

    it('stores compressed chunks when asked and reads them back', async () => {
      fresh({ compression: 'deflate' });
      const table = aq.table({ s: Array.from({ length: 20_000 }, () => 'repetitive text') });
      await frames.cacheDataFrame('zipped', table);
      const info = (await frames.getDataFrameInfo('zipped'))!;
      expect(info.compression).toBe('deflate');
      expect(info.bytes).toBeLessThan((20_000 * (15 + 4)) / 4); // raw: 15 bytes of text and a 4-byte offset per row
      expect((await frames.getCachedDataFrame('zipped'))!.array('s')).toEqual(table.array('s'));
    });
  });

  describe('bad input keeps the cached table intact', () => {
    it('refuses bad names, non-tables, bad values and oversized tables', async () => {
      fresh({ maxTableBytes: 100_000, chunkBytes: 16 * 1024 });
      const good = aq.table({ id: ['00123', '00456'] });
      await frames.cacheDataFrame('keep', good);
      const before = keysOf('keep').sort();

      for (const name of ['keep*', 'data/keep', '']) {
        const error = await caught(frames.cacheDataFrame(name, good));
        expect(FrameError.hasCode(error, 'E_INVALID_KEY')).toBe(true);
      }
      expect(FrameError.hasReason(await caught(frames.cacheDataFrame('keep', { rows: 1 } as never)), 'NOT_A_TABLE')).toBe(true);
      // A value that does not fit its column type: refused before anything is switched.
      const typeError = await caught(frames.cacheDataFrame('keep', aq.table({ id: [1, 'two'] }), { types: { id: int32() } }));
      expect(FrameError.hasReason(typeError, 'COLUMN_TYPE')).toBe(true);
      expect((typeError as Error).message).toMatch(/column "id" row 2/);
      expect(keysOf('keep').sort()).toEqual(before);
      const kept = keysOf('keep').sort();

      const huge = aq.table({ x: Float64Array.from({ length: 50_000 }, (_, i) => i) });
      const tooLarge = await caught(frames.cacheDataFrame('keep', huge));
      expect(FrameError.hasReason(tooLarge, 'TABLE_TOO_LARGE')).toBe(true);
      expect(FrameError.hasCode(tooLarge, 'E_PAYLOAD_TOO_LARGE')).toBe(true);
      expect((tooLarge as Error).message).toMatch(/over 100000 bytes/);
      expect(keysOf('keep').sort()).toEqual(kept); // no chunks of the refused write are left behind
      expect((await frames.getCachedDataFrame('keep'))!.objects()).toEqual(good.objects());
    });

    it('bad files never reach the cache', async () => {
      fresh();
      const good = aq.table({ id: ['00123'] });
      await frames.cacheDataFrame('customers', good);
      const load = async (path: string) => frames.cacheDataFrame('customers', await readTableFile(path));
      const write = (name: string, content: string | Buffer) => {
        writeFileSync(join(dir, name), content);
        return join(dir, name);
      };
      for (const [path, reason] of [
        [join(dir, 'missing.csv'), 'FILE_NOT_FOUND'],
        [write('empty.csv', ''), 'FILE_EMPTY'],
        [write('ragged.csv', 'a,b\n1,2\n3,4,5\n'), 'CSV_RAGGED'],
        [write('latin1.csv', Buffer.from([0x61, 0x0a, 0xe9, 0x0a])), 'FILE_ENCODING'],
      ] as const) {
        expect(FrameError.hasReason(await caught(load(path)), reason)).toBe(true);
        expect((await frames.getCachedDataFrame('customers'))!.objects()).toEqual(good.objects());
      }
    });
  });

  describe('files through the cache', () => {
    it('a CSV with identifier columns and empty cells, cached and read back, is written out identical', async () => {
      fresh();
      const csv =
        'customer_id,account_number,segment,credit_score,balance,opened,last_login,vip,comment\n' +
        '00123,12345678901234567890,retail,720,1500.25,2024-01-15,2024-01-15 10:30:00,true,\n' +
        '00124,,corporate,,0,2023-12-31,,false,"late, twice"\n' +
        '99999,0000000000000001,,580,-20.5,,2024-02-01 00:00:00,,""\n';
      writeFileSync(join(dir, 'in.csv'), csv);
      expect(await frames.cacheDataFrame('csv', await readTableFile(join(dir, 'in.csv')))).toBe(true);
      const back = await frames.getCachedDataFrame('csv');
      await writeTableFile(back!, join(dir, 'out.csv'));
      expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe(csv);
    });
  });

  describe('free functions on getCache()', () => {
    it('use the process-wide cache', async () => {
      await resetCache();
      const p = uniquePrefix('frames-default');
      getCache({ ...deployment.connection, backend: 'redis', keyPrefix: p, commandTimeoutMs: 10_000, envFile: false });
      expect(await cacheDataFrame('shared', aq.table({ a: [1, 2] }))).toBe(true);
      expect((await getCachedDataFrame('shared'))!.objects()).toEqual([{ a: 1 }, { a: 2 }]);
      expect((await getDataFrameInfo('shared'))!.rows).toBe(2);
      expect(await listDataFrames()).toEqual(['shared']);
      expect(await deleteDataFrame('shared')).toBe(true);
      expect(await getCachedDataFrame('shared')).toBeNull();
      await resetCache();
    });
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
