// pnpm bench: the scoring service under a repeat-customer load, with the cache, without it, and
// with Redis killed half-way. Writes bench-results/scoring-service.json at the repository root.
import { report } from '@finrisk/test-utils';
import { runLoadTest, type CaseResult } from './load-test.ts';

const durationS = Number(process.env.LOAD_DURATION_S ?? 20);
const connections = Number(process.env.LOAD_CONNECTIONS ?? 50);

console.log(`scoring-service load test: 5,000 customers, 80% of requests from 20% of them`);
const results = await runLoadTest({ durationS, connections, log: (line) => console.log(line) });

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const codes = (s: Record<string, number>) => Object.entries(s).map(([k, v]) => `${k}×${v}`).join(' ');
console.log(`\n  ${'case'.padEnd(34)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'hit rate'.padStart(9)}  statuses`);
for (const r of results) {
  console.log(`  ${r.name.padEnd(34)} ${r.reqPerSec.toFixed(0).padStart(8)} ${r.p50Ms.toFixed(1).padStart(7)} ${r.p99Ms.toFixed(1).padStart(7)} ${pct(r.hitRate).padStart(9)}  ${codes(r.statuses)}`);
  if (r.afterKill) {
    console.log(`    before the kill: hit rate ${pct(r.hitRateBeforeKill ?? 0)}; after: ${r.afterKill.requests} requests, ${codes(r.afterKill.statuses)}, hit rate ${pct(r.afterKill.hitRate)}, /healthz ${r.afterKill.healthzStatus}`);
  }
}

const byName = (name: CaseResult['name']) => results.find((r) => r.name === name)!;
const withCache = byName('with cache');
const withL1 = byName('with cache and L1 (64 MiB)');
const without = byName('without cache');
const killed = byName('with cache, Redis killed half-way');
report(
  'scoring-service',
  results.map((r) => ({ name: r.name, opsPerSec: r.reqPerSec, usPerOp: 1e6 / r.reqPerSec })),
  [
    {
      what: 'throughput with cache / without',
      ratio: withCache.reqPerSec / without.reqPerSec,
      target: '> 1',
      met: withCache.reqPerSec > without.reqPerSec,
      detail: `p99 ${withCache.p99Ms} ms vs ${without.p99Ms} ms`,
    },
    {
      what: 'throughput with cache and L1 / with cache',
      ratio: withL1.reqPerSec / withCache.reqPerSec,
      target: 'report',
      met: true,
      detail: `p99 ${withL1.p99Ms} ms vs ${withCache.p99Ms} ms; hit rate ${pct(withL1.hitRate)} vs ${pct(withCache.hitRate)}`,
    },
    {
      what: '5xx while Redis was down',
      ratio: killed.afterKill?.statuses['500'] ?? 0,
      target: '0',
      met: Object.keys(killed.afterKill?.statuses ?? {}).every((s) => !s.startsWith('5')),
      detail: `${killed.afterKill?.requests ?? 0} requests after the kill`,
    },
  ],
  { durationS, connections, customers: 5000, mix: '80% of requests from 20% of customers; 2 credit : 1 fraud', cases: results },
);
