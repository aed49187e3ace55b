// pnpm bench (finrisk-cache): cold start of the CLI answering get-pred, against `node -e` that
// only connects and GETs, both as whole processes on the same server (ratio of medians).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { report, startRedisServer, type Measurement } from '@finrisk/test-utils';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const bin = fileURLToPath(new URL('../dist/finrisk-cache.js', import.meta.url));
// The baseline uses the same node-redis the SDK uses (a dependency of cache-core).
const coreRequire = createRequire(fileURLToPath(new URL('../../../packages/cache-core/package.json', import.meta.url)));
const redisModule = pathToFileURL(coreRequire.resolve('@redis/client')).href;
const server = await startRedisServer();
try {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: server.url, CACHE_BACKEND: 'redis', NO_COLOR: '1' };
  const seed = spawnSync(process.execPath, [bin, 'cache-pred', 'CUST001', 'credit', '{"risk_score": 0.75, "decision": "approve"}'], { env, encoding: 'utf8' });
  if (seed.status !== 0) throw new Error(`seeding failed: ${seed.stderr}`);
  const baseline = `import(${JSON.stringify(redisModule)}).then(async ({ createClient }) => { const c = createClient({ url: process.env.REDIS_URL }); await c.connect(); console.log(await c.get('finrisk:prediction:CUST001:credit')); await c.close(); })`;

  const time = (args: string[]) => {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const cli: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so that a noisy moment hits both.
    cli.push(time([bin, 'get-pred', 'CUST001', 'credit']));
    raw.push(time(['-e', baseline]));
  }
  const node = time(['-e', '0']);
  const m = (name: string, ms: number): Measurement => ({ name, opsPerSec: 1000 / ms, usPerOp: ms * 1000 });
  const cliMs = median(cli);
  const rawMs = median(raw);
  report(
    'finrisk-cache',
    [m('finrisk-cache get-pred (median process)', cliMs), m('node -e connect+GET (median process)', rawMs), m('node -e 0 (process start alone)', node)],
    [{ what: 'CLI get-pred / node -e connect+GET, whole process', ratio: cliMs / rawMs, target: '< 2.00', met: cliMs / rawMs < 2, detail: `${cliMs.toFixed(0)} ms vs ${rawMs.toFixed(0)} ms (median of ${RUNS})` }],
  );
} finally {
  await server.stop();
}
