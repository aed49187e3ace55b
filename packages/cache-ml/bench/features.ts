/**
 * Streaming features (issue 26): what a subset read and a partial update move over the network,
 * against the whole-vector calls, for a customer with 200 features. Bytes are the server's own
 * count (INFO stats: total_net_input_bytes + total_net_output_bytes) over the calls, so they
 * include the request, the reply and the protocol. Targets: a read of 5 features moves at most a
 * quarter of a whole-vector read; an update of 2 features at most a third of a whole rewrite.
 * Writes bench-results/cache-ml-features.json at the repository root.
 */
import { createCache } from '@finrisk/cache-core';
import { measure, report, startRedisServer, type Measurement, type RatioRow } from '@finrisk/test-utils';
import { createMlCache } from '../src/index.ts';

const OPS = Number(process.env.BENCH_OPS ?? 2_000);
const server = await startRedisServer();
try {
  const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: 'bench', envFile: false, env: {}, statsPublish: false });
  await cache.connect();
  const ml = createMlCache(cache);
  // 200 features as a scoring service has them: mostly numbers, a few short strings.
  const vector = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`feature_${String(i).padStart(3, '0')}`, i % 20 === 0 ? `category_${i}` : i * 1.234567]));
  const names = Object.keys(vector);
  const five = [names[3]!, names[40]!, names[77]!, names[120]!, names[199]!];
  const ids = Array.from({ length: 100 }, (_, i) => `CUST${i}`);
  for (const id of ids) if (!(await ml.cacheFeatures(id, vector, { ttl: 3600 }))) throw new Error('not written');

  const netBytes = () => {
    const info = server.cli('INFO', 'stats');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    return field('total_net_input_bytes') + field('total_net_output_bytes');
  };
  /** Bytes per call of `op`, over `calls` sequential calls (the INFO call itself measured and taken off). */
  const bytesPerCall = async (op: (i: number) => Promise<unknown>, calls = 200) => {
    const a = netBytes();
    const infoCost = netBytes() - a;
    const before = netBytes();
    for (let i = 0; i < calls; i++) await op(i);
    return (netBytes() - before - infoCost) / calls;
  };

  const id = (i: number) => ids[i % ids.length]!;
  const wholeRead = await bytesPerCall((i) => ml.getCachedFeatures(id(i)));
  const subsetRead = await bytesPerCall((i) => ml.getCachedFeatures(id(i), { only: five }));
  let round = 0;
  const wholeWrite = await bytesPerCall((i) => ml.cacheFeatures(id(i), { ...vector, [names[0]!]: round++ }, { ttl: 3600 }));
  const partialWrite = await bytesPerCall((i) => ml.updateFeatures(id(i), { [names[1]!]: round++, [names[2]!]: round }, { ttl: 300 }));

  const m: Measurement[] = [
    await measure('getCachedFeatures, 200 features (sequential)', (i) => ml.getCachedFeatures(id(i)), OPS),
    await measure('getCachedFeatures only 5 of 200 (sequential)', (i) => ml.getCachedFeatures(id(i), { only: five }), OPS),
    await measure('cacheFeatures, 200 features (sequential)', (i) => ml.cacheFeatures(id(i), vector, { ttl: 3600 }), OPS),
    await measure('updateFeatures, 2 of 200 (sequential)', (i) => ml.updateFeatures(id(i), { [names[1]!]: i, [names[2]!]: i }, { ttl: 300 }), OPS),
  ];
  const readRatio = subsetRead / wholeRead;
  const writeRatio = partialWrite / wholeWrite;
  const ratios: RatioRow[] = [
    { what: 'bytes moved: read of 5 of 200 features / whole-vector read', ratio: readRatio, target: '<= 0.25', met: readRatio <= 0.25, detail: `${subsetRead.toFixed(0)} vs ${wholeRead.toFixed(0)} bytes per call` },
    { what: 'bytes moved: update of 2 of 200 features / whole-vector rewrite', ratio: writeRatio, target: '<= 0.33', met: writeRatio <= 1 / 3, detail: `${partialWrite.toFixed(0)} vs ${wholeWrite.toFixed(0)} bytes per call` },
    { what: 'time: update of 2 of 200 / whole-vector rewrite', ratio: m[3]!.usPerOp / m[2]!.usPerOp, target: 'report', met: true, detail: `${m[3]!.usPerOp.toFixed(1)} vs ${m[2]!.usPerOp.toFixed(1)} µs per call` },
    { what: 'time: read of 5 of 200 / whole-vector read', ratio: m[1]!.usPerOp / m[0]!.usPerOp, target: 'report', met: true, detail: `${m[1]!.usPerOp.toFixed(1)} vs ${m[0]!.usPerOp.toFixed(1)} µs per call` },
  ];
  report('cache-ml-features', m, ratios, { ops: OPS, features: names.length, bytes: { wholeRead, subsetRead, wholeWrite, partialWrite } });
  await cache.close();
  if (!ratios.every((r) => r.met)) process.exitCode = 1;
} finally {
  await server.stop();
}
