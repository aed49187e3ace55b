import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { singleNode, uniquePrefix } from '@finrisk/test-utils';
import { untilL1Serves, useDeployment } from '@finrisk/test-utils/fixtures';
import { describe, expect, it } from 'vitest';
import { createCache, type Cache, type CreateCacheOptions } from '../cache.js';

const CHILD = fileURLToPath(new URL('./read-with-l1-in-child.ts', import.meta.url));
const MIB = 1024 * 1024;

function child(args: string[]): Promise<{ read: number; growthBytes: number; l1Bytes: number; l1Hits: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe('L1 holds no more than its settings say, and hands out values no caller can change for another', () => {
  const fixture = useDeployment(singleNode);

  function make(prefix: string, options: CreateCacheOptions = {}): Cache {
    const cache = createCache({ ...fixture.deployment.connection, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, statsPublish: false, commandTimeoutMs: 30_000, ...options } as CreateCacheOptions);
    fixture.track(cache);
    return cache;
  }

  it('with a 64 MB L1, reading four 30.5 MB compressible Float64Arrays leaves the heap under 96 MB larger: each is over the 16 MB entry cap decoded, and not held', async () => {
    const prefix = uniquePrefix('l1mem');
    const writer = make(prefix);
    // 30.5 MiB decoded, about 60 KB stored: the stored size says nothing of what it costs.
    const weights = new Float64Array((30.5 * MIB) / 8).fill(0.25);
    const keys = ['m1', 'm2', 'm3', 'm4'];
    for (const key of keys) expect(await writer.set(key, { weights })).toBe(true);
    expect(Number(fixture.deployment.cli('STRLEN', `${prefix}:kv:m1`))).toBeLessThan(MIB);
    const result = await child([fixture.deployment.env.REDIS_URL!, prefix, '64', ...keys]);
    expect(result.read).toBe(8);
    // Before: each counted at its stored size (0.75 MB for the four) and held, 122 MB in all.
    expect(result.growthBytes, `heap growth ${(result.growthBytes / MIB).toFixed(1)} MiB`).toBeLessThan(96 * MIB);
    expect(result.l1Hits).toBe(0);
    expect(result.l1Bytes).toBe(0);
    // CPU work in a child process (four 30.5 MB values inflated and decoded), nothing to wait for:
    // 107 s in a loaded run of the suite, over 120 s in two more at a load of 30 to 44.
  }, 300_000);

  it('holds a value under the cap, counted at its decoded size', async () => {
    const prefix = uniquePrefix('l1mem');
    const writer = make(prefix);
    expect(await writer.set('small', { weights: new Float64Array(MIB / 8).fill(0.5) })).toBe(true);
    const result = await child([fixture.deployment.env.REDIS_URL!, prefix, '64', 'small']);
    expect(result.read).toBe(2);
    expect(result.l1Hits).toBe(1);
    expect(result.l1Bytes).toBeGreaterThanOrEqual(MIB);
  }, 60_000);

  it("a caller changing what it read (a nested object, an array, a typed array in an object, a Map, a Date) never changes the next reader's value", async () => {
    const prefix = uniquePrefix('l1mem');
    const reader = make(prefix, { l1: { maxMb: 16, kinds: '*' } });
    await reader.connect();
    await untilL1Serves(reader);
    const values: Record<string, () => unknown> = {
      json: () => ({ outer: { inner: { n: 1 } }, list: [1, 2, 3] }),
      typed: () => ({ model: { weights: new Float64Array([1, 2, 3]) }, at: new Date(0), index: new Map([['a', { n: 1 }]]) }),
    };
    const mutate = (value: unknown) => {
      const v = value as Record<string, any>;
      const attempts = [
        () => (v.outer.inner.n = 99),
        () => v.list.push(4),
        () => v.list.sort((a: number, b: number) => b - a),
        () => (v.model.weights[0] = 99),
        () => v.model.weights.reverse(),
        () => v.at.setTime(123456),
        () => v.index.set('a', 'changed'),
        () => v.index.get('a') && (v.index.get('a').n = 99),
        () => (v.added = true),
      ];
      // A frozen value throws on a write (modules are strict): that is one way of not changing it.
      for (const attempt of attempts) {
        try {
          attempt();
        } catch {
          // frozen
        }
      }
    };
    for (const [name, value] of Object.entries(values)) {
      expect(await reader.set(name, value())).toBe(true);
      await reader.syncLocal();
      mutate(await reader.get(name)); // the read that fills L1
      for (let i = 0; i < 3; i++) {
        const again = await reader.get(name);
        expect(again, name).toStrictEqual(value());
        mutate(again); // a hit, changed by its caller
      }
      expect(reader.processStats().byKind.kv!.l1Hits).toBeGreaterThan(0);
    }
  });
});

const MEASURE = fileURLToPath(new URL('./measure-heap-in-child.ts', import.meta.url));

interface Row {
  shape: string;
  values: number;
  actualPerValue: number;
  estimatePerValue: number;
}

// No Redis here: it sits with the other memory tests of L1, which run in processes of their own
// too, and out of the unit tests, which it would slow down for a minute.
describe('what L1 counts for a value is what it costs in the heap', () => {
  // In a process of its own, with a GC it can call (and no bytecode flushing, which would free
  // the loader's code during a measurement and show as negative growth).
  it('never undercounts real heap growth by more than 1.5x, and overcounts by at most 2x (object-dense JSON, predictions, feature vectors, nested arrays, long strings, typed arrays, Maps, Sets, Dates)', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      const proc = spawn(process.execPath, ['--expose-gc', '--no-flush-bytecode', '--import', 'tsx', MEASURE], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
      proc.on('error', reject);
      proc.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`the measuring process exited ${code}: ${err}`))));
    });
    const rows = stdout.trim().split('\n').map((line) => JSON.parse(line) as Row);
    expect(rows.length).toBeGreaterThanOrEqual(17);
    const ratios = rows.map((r) => ({ shape: r.shape, ratio: Number((r.estimatePerValue / r.actualPerValue).toFixed(2)) }));
    // Every shape listed with its ratio on failure: which one moved is the finding.
    expect(ratios.filter((r) => !(r.ratio >= 1 / 1.5 && r.ratio <= 2))).toEqual([]);
  }, 300_000);
});

