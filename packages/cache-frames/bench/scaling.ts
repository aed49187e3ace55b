/**
 * How the cost of a table grows (issue 18): the bench table at 250k, 1M, 2.5M and 10M rows,
 * written and read with default FrameCache and Cache settings on one redis-server and on a
 * cluster of 3 masters. Each write and each read runs in a child process (bench/scaling-child.ts)
 * so that its peak RSS is its own; the servers live here, and a read reads what the write before
 * it wrote. Prints the scaling table and the targets, writes bench-results/cache-frames-scaling.json.
 *
 *   pnpm --filter @finrisk/cache-frames exec tsx bench/scaling.ts
 *   FRAMES_SCALING_SIZES=250000,1000000 FRAMES_SCALING_TOPOLOGIES=single ...   (smaller runs)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisCluster, startRedisServer, type RatioRow, type RedisServer } from '@finrisk/test-utils';
import type { ChildResult, ScalingConnection } from './scaling-child.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

function list<T extends string | number>(text: string | undefined, fallback: T[], parse: (s: string) => T): T[] {
  if (!text) return fallback;
  return text.split(',').map((s) => parse(s.trim()));
}
const sizes = list(process.env.FRAMES_SCALING_SIZES, [250_000, 1_000_000, 2_500_000, 10_000_000], (s) => {
  const n = Number(s.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`FRAMES_SCALING_SIZES: ${JSON.stringify(s)} is not a positive whole number of rows`);
  return n;
});
type Topology = 'single' | 'cluster';
const topologyNames = list<Topology>(process.env.FRAMES_SCALING_TOPOLOGIES, ['single', 'cluster'], (s) => {
  if (s !== 'single' && s !== 'cluster') throw new Error(`FRAMES_SCALING_TOPOLOGIES: ${JSON.stringify(s)} is neither single nor cluster`);
  return s;
});
/** Longest one child may take before it is killed and counted as failed, in ms. */
const CHILD_TIMEOUT_MS = Number(process.env.FRAMES_SCALING_CHILD_TIMEOUT_MS ?? 20 * 60_000);

/** Runs one measurement in its own process; a crash, a timeout or a result that is not JSON is a failed measurement. */
function runChild(phase: 'write' | 'read', rows: number, connection: ScalingConnection): Promise<ChildResult> {
  // The bench table holds its 10 columns as JS arrays (~330 MB of heap per million rows, Dates
  // and strings): 10M rows would not fit V8's default heap limit (~4.3 GB here) whatever the cache
  // did. A higher limit measures the cache's peak, and does not shrink it by forcing early GCs.
  const args = ['--expose-gc', '--max-old-space-size=12288', '--import', 'tsx', join(here, 'scaling-child.ts'), phase, String(rows), JSON.stringify(connection)];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: join(here, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    const failed = (error: string): ChildResult => ({ phase, rows, ok: false, error, baseRss: 0, maxRssBefore: 0, peakRss: 0, ms: 0 });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (err.trim()) process.stderr.write(err.replace(/^/gm, `    [${phase} ${rows}] `));
      const line = out.trim().split('\n').at(-1);
      if (code === 0 && line) {
        try {
          return resolve(JSON.parse(line) as ChildResult);
        } catch {
          // fall through: not a result
        }
      }
      const how = signal === 'SIGKILL' ? `killed (more than ${CHILD_TIMEOUT_MS} ms, or out of memory)` : signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve(failed(`the ${phase} process ended with ${how}: ${err.trim().split('\n').slice(-5).join(' | ') || out.trim().slice(-500)}`));
    });
  });
}

interface Deployment {
  name: Topology;
  connection: ScalingConnection;
  masters: RedisServer[];
  stop(): Promise<void>;
}

// Default server settings: no maxmemory, proto-max-bulk-len untouched (512mb). The cluster has
// no replicas, so that it holds what the single node holds, spread over 3 processes.
async function start(name: Topology): Promise<Deployment> {
  if (name === 'single') {
    const server = await startRedisServer();
    return { name, connection: { url: server.url }, masters: [server], stop: () => server.stop() };
  }
  const cluster = await startRedisCluster({ masters: 3, replicas: 0 });
  return { name, connection: { clusterNodes: cluster.seeds.split(',') }, masters: cluster.nodes, stop: () => cluster.stop() };
}

interface Row {
  topology: Topology;
  rows: number;
  write: ChildResult;
  read: ChildResult | null;
}

const MB = 1e6;
const machine = () => ({ cpus: cpus().length, totalMemGiB: Math.round(totalmem() / 2 ** 30), loadavg: loadavg().map((l) => Math.round(l * 100) / 100) });
const startedAt = new Date();
const machineBefore = machine();
const deployments: Deployment[] = [];
const results: Row[] = [];
try {
  for (const name of topologyNames) deployments.push(await start(name));
  const redisVersion = deployments[0]!.masters[0]!.cli('INFO', 'server').match(/redis_version:(\S+)/)?.[1];
  // Sizes outside, topologies inside: a slow moment of the machine lands on both.
  for (const rows of sizes) {
    for (const d of deployments) {
      for (const m of d.masters) m.cli('FLUSHALL');
      process.stderr.write(`  ${d.name}, ${rows.toLocaleString('en-US')} rows: write`);
      const write = await runChild('write', rows, d.connection);
      process.stderr.write(write.ok ? ` ${Math.round(write.ms)} ms, read` : ` FAILED after ${Math.round(write.ms)} ms (event loop blocked up to ${write.maxLoopStallMs} ms at once)\n`);
      const read = write.ok ? await runChild('read', rows, d.connection) : null;
      if (read) {
        if (read.ok && read.qtySum !== write.qtySum) Object.assign(read, { ok: false, error: `read back a qty column summing to ${read.qtySum}, wrote ${write.qtySum}` });
        process.stderr.write(read.ok ? ` ${Math.round(read.ms)} ms\n` : ` FAILED after ${Math.round(read.ms)} ms (event loop blocked up to ${read.maxLoopStallMs} ms at once)\n`);
      }
      results.push({ topology: d.name, rows, write, read });
    }
  }

  const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const ns = (ms: number, rows: number) => (ms * 1e6) / rows;
  const ok = (r: Row) => r.write.ok && r.read?.ok === true;
  const total = (r: Row) => r.write.ms + r.read!.ms;
  const rawTotal = (r: Row) => r.write.rawSetMs! + r.write.rawGetMs!;
  const growth = (c: ChildResult) => c.peakRss - c.baseRss;
  const single = (rows: number) => results.find((r) => r.topology === 'single' && r.rows === rows && ok(r));

  console.log(`\ntable scaling: the bench table (10 columns), default FrameCache and Cache settings; node ${process.version}, redis ${redisVersion}, ${machineBefore.cpus} cores, load ${machineBefore.loadavg.join(' ')}`);
  console.log('(x raw: write + read against SET + GET of the same Arrow IPC bytes in 4 MiB pieces, all in flight, same server, same run;');
  console.log(' stall: longest the event loop was blocked at once during the write / read, which a chunk deadline cannot tell from a slow Redis)\n');
  const head = ['topology', 'rows', 'Arrow MB', 'stored MB', 'write ns/row', 'read ns/row', 'raw ns/row', 'x raw', 'vs single', 'stall ms w/r'];
  const widths = [8, 12, 9, 9, 12, 11, 10, 6, 9, 12];
  const line = (cells: string[]) => console.log(cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  line(head);
  for (const r of results) {
    if (!ok(r)) {
      line([r.topology, fmt(r.rows), '', '', r.write.ok ? fmt(ns(r.write.ms, r.rows)) : 'FAILED', r.write.ok ? 'FAILED' : '', '', '', '', `${r.write.maxLoopStallMs ?? ''}/${r.read?.maxLoopStallMs ?? ''}`]);
      continue;
    }
    const s = r.topology === 'cluster' ? single(r.rows) : undefined;
    line([
      r.topology,
      fmt(r.rows),
      fmt(r.write.arrowBytes! / MB, 1),
      fmt(r.write.storedBytes! / MB, 1),
      fmt(ns(r.write.ms, r.rows)),
      fmt(ns(r.read!.ms, r.rows)),
      fmt(ns(rawTotal(r), r.rows)),
      fmt(total(r) / rawTotal(r), 2),
      s ? `${fmt(total(s) / total(r), 2)}x` : '',
      `${r.write.maxLoopStallMs}/${r.read!.maxLoopStallMs}`,
    ]);
  }
  console.log('\npeak RSS (each write and read in its own process; base: RSS after building the table (write) and connecting, after a full GC)\n');
  const mhead = ['topology', 'rows', 'phase', 'base MB', 'peak MB', 'growth MB', 'Arrow MB', 'growth/Arrow'];
  const mwidths = [8, 12, 5, 8, 8, 9, 9, 12];
  const mline = (cells: string[]) => console.log(cells.map((c, i) => (i < 1 || i === 2 ? c.padEnd(mwidths[i]!) : c.padStart(mwidths[i]!))).join('  '));
  mline(mhead);
  for (const r of results) {
    for (const c of [r.write, r.read]) {
      if (!c || !c.ok) continue;
      // The table's construction can leave a high-water mark above the base; an operation that
      // stays under it is reported at that mark (an upper bound), marked with '<='.
      const bound = c.peakRss === c.maxRssBefore ? ' (<=: under the pre-op mark)' : '';
      mline([r.topology, fmt(r.rows), c.phase, fmt(c.baseRss / MB), fmt(c.peakRss / MB), fmt(growth(c) / MB), r.write.arrowBytes ? fmt(r.write.arrowBytes / MB, 1) : '', r.write.arrowBytes ? `${fmt(growth(c) / r.write.arrowBytes, 2)}${bound}` : '']);
    }
  }

  // Targets, at the largest size measured.
  const largest = Math.max(...sizes);
  const at = (t: Topology) => results.find((r) => r.topology === t && r.rows === largest);
  const targets: RatioRow[] = [];
  for (const t of topologyNames) {
    const r = at(t)!;
    const failure = !r.write.ok ? `write failed after ${fmt(r.write.ms)} ms: ${r.write.error}` : !r.read?.ok ? `read failed after ${fmt(r.read?.ms ?? 0)} ms: ${r.read?.error}` : '';
    if (failure) {
      targets.push({ what: `${fmt(largest)} x 10 table written and read with defaults (${t})`, ratio: NaN, target: 'ok', met: false, detail: failure });
      continue;
    }
    targets.push({ what: `${fmt(largest)} x 10 write + read / raw SET + GET (${t})`, ratio: total(r) / rawTotal(r), target: '<= 2', met: total(r) / rawTotal(r) <= 2, detail: `${fmt(total(r))} ms vs ${fmt(rawTotal(r))} ms (write ${fmt(r.write.ms)}, read ${fmt(r.read!.ms)}; SET ${fmt(r.write.rawSetMs!)}, GET ${fmt(r.write.rawGetMs!)})` });
    for (const c of [r.write, r.read!]) {
      const ratio = growth(c) / r.write.arrowBytes!;
      targets.push({ what: `${fmt(largest)} rows: peak RSS growth while ${c.phase === 'write' ? 'writing' : 'reading'} / Arrow size (${t})`, ratio, target: '<= 2', met: ratio <= 2, detail: `peak ${fmt(c.peakRss / MB)} MB = base ${fmt(c.baseRss / MB)} MB + ${fmt(growth(c) / MB)} MB; Arrow ${fmt(r.write.arrowBytes! / MB)} MB` });
    }
  }
  const s = at('single');
  const c = at('cluster');
  if (s && c && ok(s) && ok(c)) {
    const ratio = total(s) / total(c);
    targets.push({ what: `${fmt(largest)} rows: cluster of 3 masters / single node, write + read throughput`, ratio, target: '>= 1.8', met: ratio >= 1.8, detail: `${fmt(total(c))} ms vs ${fmt(total(s))} ms` });
  }
  console.log('\ntargets (issue 18), at the largest size\n');
  const tw = Math.max(...targets.map((t) => t.what.length));
  for (const t of targets) console.log(`  ${t.what.padEnd(tw)}  ${Number.isNaN(t.ratio) ? '     -' : t.ratio.toFixed(2).padStart(6)}  target ${t.target.padEnd(7)}  ${t.met ? 'met' : 'MISSED'}  ${t.detail}`);

  const file = join(root, 'bench-results', 'cache-frames-scaling.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ name: 'cache-frames-scaling', date: startedAt.toISOString(), finished: new Date().toISOString(), node: process.version, redis: redisVersion, machineBefore, machineAfter: machine(), sizes, topologies: topologyNames, targets, results }, null, 2)}\n`,
  );
  console.log(`\n  written to ${file}`);
  const failures = results.filter((r) => !ok(r));
  if (failures.length > 0) {
    for (const f of failures) {
      const c = f.write.ok ? f.read! : f.write;
      console.error(`FAILED: ${f.topology}, ${fmt(f.rows)} rows, ${c.phase} (after ${fmt(c.ms)} ms, event loop blocked up to ${c.maxLoopStallMs ?? '?'} ms at once): ${c.error ?? ''}`);
    }
    process.exitCode = 1;
  }
} finally {
  await Promise.all(deployments.map((d) => d.stop()));
}
