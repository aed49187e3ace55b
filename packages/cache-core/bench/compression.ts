// pnpm bench (cache-core, part 2): what compression costs and saves per value size, through
// Redis, to choose the default compressionThreshold. Ratios within one run.
import { measure, report, startRedisServer, type Measurement, type RatioRow } from '@finrisk/test-utils';
import { createCache } from '../src/index.js';

const server = await startRedisServer();
try {
  const plain = createCache({ url: server.url, backend: 'redis', envFile: false, env: {}, compressionThreshold: 0, commandTimeoutMs: 5000 });
  const packed = createCache({ url: server.url, backend: 'redis', envFile: false, env: {}, compressionThreshold: 1, commandTimeoutMs: 5000 });
  const row = (i: number) => ({ customer_id: `CUST${String(i).padStart(6, '0')}`, segment: i % 3 ? 'retail' : 'sme', income: 30000 + ((i * 7919) % 90000), score: ((i * 104729) % 1000) / 1000 });
  const m: Measurement[] = [];
  const ratios: RatioRow[] = [];
  for (const rows of [4, 16, 64, 256, 1024, 4096]) {
    const value = { rows: Array.from({ length: rows }, (_, i) => row(i)) };
    const bytes = Buffer.byteLength(JSON.stringify(value));
    const ops = Math.max(200, Math.floor(400_000 / bytes) * 10);
    const off = await measure(`${bytes} B, uncompressed set+get`, async () => { await plain.set('v', value); await plain.get('v'); }, ops);
    const on = await measure(`${bytes} B, deflate set+get`, async () => { await packed.set('v', value); await packed.get('v'); }, ops);
    await packed.set('v', value);
    const stored = Number(server.cli('STRLEN', packed.keys.key('kv', 'v').key));
    m.push(off, on);
    ratios.push({
      what: `${bytes} B JSON: time with deflate / without`,
      ratio: on.usPerOp / off.usPerOp,
      target: 'report',
      met: true,
      detail: `stored ${stored} B instead of ${bytes + 6} B (${((stored / (bytes + 6)) * 100).toFixed(0)}%)`,
    });
  }
  report('cache-core-compression', m, ratios);
  await plain.close();
  await packed.close();
} finally {
  await server.stop();
}
