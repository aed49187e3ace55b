// pnpm bench:peers: the SDK side by side with bentocache, cacheable and cache-manager, and the
// hand-written node-redis client the issue's targets use, on one redis-server this process starts.
// Every library does the same work (same keys, same payload, same concurrency, same TTL), rounds
// interleaved library by library; tables of medians of per-round ratios with min-max, and a JSON
// file for BENCHMARKS.md. Sizes: see settings.ts.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, RESP_TYPES } from '@redis/client';
import { startRedisServer, type RedisServer } from '@finrisk/test-utils';
import { L1_CONTENDERS, makePrediction, REDIS_CONTENDERS, type Contender, type Instance, type Prediction } from './contenders.ts';
import { fixed, int, ratiosOf, showFailure, showSpread, table, throughputTable } from './report.ts';
import { burst, interleave, percentile, ratioSpread, spread, withDeadline, type RoundResult, type Rounds } from './rounds.ts';
import { settings, type Section } from './settings.ts';
import { now, PLACEHOLDER, readStamp, makeStamp, WARM_WRITES } from './stamp.ts';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..');
const repoRoot = join(pkgDir, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const deadlineMs = settings.deadlineS * 1000;

/** The version of a package this benchmark resolves, from its own node_modules or from a dependency's. */
function versionOf(name: string, via?: string): string {
  try {
    const base = via ? dirname(realpathSync(join(pkgDir, 'node_modules', via))) : join(pkgDir, 'node_modules');
    return (JSON.parse(readFileSync(join(base, name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not found';
  }
}

// A library can throw from its own event handlers (a bus message, a socket event), where no call of
// ours can catch it. Node would end the run there and lose every table; instead the exception is
// counted as an error of the library that was running when it came.
let running = 'setting up';
const uncaught: { during: string; error: string }[] = [];
const onUncaught = (e: unknown) => void uncaught.push({ during: running, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
process.on('uncaughtException', onUncaught);
process.on('unhandledRejection', onUncaught);
/** The uncaught exceptions that came while `id` was running, from index `since` on. */
const uncaughtOf = (id: string, since: number) => uncaught.slice(since).filter((u) => u.during === id).map((u) => `uncaught ${u.error}`);

const keys = Array.from({ length: settings.keys }, (_, i) => `CUST${i}`);
const checkRead = (v: unknown): string | null =>
  (v as Prediction | null | undefined)?.decision === 'approve' ? null : v == null ? 'a miss: the value written is not there' : `a wrong value: ${JSON.stringify(v).slice(0, 80)}`;
const checkWrite = (ok: unknown): string | null => (ok === true ? null : 'the library says the value was not stored');

const out: Record<string, unknown> = {};
const lines: string[] = [];
const print = (text = '') => {
  console.log(text);
  lines.push(text);
};

async function createAll(contenders: readonly Contender[], url: string, l1Entries: number, tag: string): Promise<Map<string, Instance>> {
  const instances = new Map<string, Instance>();
  for (const c of contenders) instances.set(c.id, await withDeadline(deadlineMs, `setting up ${c.label}`, c.create({ url, prefix: `bp-${tag}-${c.id}`, l1Entries })));
  return instances;
}

async function closeAll(instances: Map<string, Instance>) {
  for (const [id, instance] of instances) {
    try {
      await withDeadline(10_000, `closing ${id}`, instance.close());
    } catch (e) {
      print(`note: ${message(e)}`);
    }
  }
}

/**
 * Seeds every library with its own `keys` (the same names and values), reads them back, and
 * fails the library's setup (not the run) when that does not work.
 */
async function seed(contenders: readonly Contender[], instances: Map<string, Instance>, readPasses: number): Promise<Map<string, string>> {
  const broken = new Map<string, string>();
  for (const c of contenders) {
    const instance = instances.get(c.id)!;
    running = c.id;
    const since = uncaught.length;
    try {
      const writes = await withDeadline(deadlineMs, `seeding ${c.label}`, burst(keys.length, 1, (i) => instance.set(keys[i]!, makePrediction()), checkWrite));
      let reads = { errors: 0, firstError: undefined as string | undefined };
      for (let p = 0; p < readPasses && reads.errors === 0; p++) reads = await withDeadline(deadlineMs, `reading ${c.label}`, burst(keys.length, 1, (i) => instance.get(keys[i]!), checkRead));
      const other = [...instance.reported, ...uncaughtOf(c.id, since)];
      const errors = writes.errors + reads.errors + other.length;
      if (errors > 0) broken.set(c.id, `seeding: ${errors} errors (first: ${writes.firstError ?? reads.firstError ?? other[0]})`);
    } catch (e) {
      broken.set(c.id, `seeding: ${message(e)}`);
    }
    instance.reported.length = 0;
  }
  return broken;
}

/** One throughput workload over `contenders`, printed and kept for the JSON. */
async function throughput(
  title: string,
  contenders: readonly Contender[],
  instances: Map<string, Instance>,
  broken: Map<string, string>,
  ops: number,
  inFlight: number,
  kind: 'get' | 'set',
): Promise<void> {
  const payloads = new Map(contenders.map((c) => [c.id, makePrediction()]));
  const rounds = await interleave(
    contenders.map((c) => c.id),
    settings.rounds,
    async (id, warmUp): Promise<RoundResult> => {
      const reason = broken.get(id);
      if (reason) return { ok: false, errors: 1, ops: 0, reason };
      const instance = instances.get(id)!;
      const value = payloads.get(id)!;
      const n = warmUp ? Math.max(Math.ceil(ops / 4), Math.min(ops, 500)) : ops;
      instance.reported.length = 0;
      running = id;
      const since = uncaught.length;
      try {
        const op = kind === 'get' ? (i: number) => instance.get(keys[i % keys.length]!) : (i: number) => instance.set(keys[i % keys.length]!, value);
        const stop = new AbortController();
        const b = await withDeadline(deadlineMs, `${id}: ${title}`, burst(n, inFlight, op, kind === 'get' ? checkRead : checkWrite, stop.signal), stop);
        const other = [...instance.reported, ...uncaughtOf(id, since)];
        const errors = b.errors + other.length;
        if (errors > 0) return { ok: false, errors, ops: n, reason: b.firstError ?? other[0] ?? 'unknown' };
        return { ok: true, value: (n / b.ms) * 1000, errors: 0 };
      } catch (e) {
        return { ok: false, errors: 1, ops: n, reason: message(e) };
      }
    },
  );
  print(`\n### ${title}\n`);
  print(throughputTable(contenders, rounds));
  (out.workloads as unknown[]).push({ title, kind, ops, inFlight, rounds: Object.fromEntries(rounds), ratios: ratiosOf(contenders, rounds, true) });
}

/** Redis commands a pass of reads of every key made: 0 means L1 served every read, one per key that each went to Redis. */
function readPassCommands(server: RedisServer) {
  const processed = () => Number(/total_commands_processed:(\d+)/.exec(server.cli('INFO', 'stats'))?.[1]);
  return async (instance: Instance): Promise<number> => {
    const c0 = processed();
    const c1 = processed();
    for (const key of keys) await instance.get(key);
    return Math.max(0, processed() - c1 - (c1 - c0));
  };
}

// ------------------------------------------------------------------------------ read-through

async function readThrough(contenders: readonly Contender[], url: string): Promise<void> {
  const instances = await createAll(contenders, url, settings.keys, 'rt');
  const computes = new Map<string, number[]>(contenders.map((c) => [c.id, []]));
  let seq = 0;
  const rounds = await interleave(
    contenders.map((c) => c.id),
    settings.rounds,
    async (id, warmUp): Promise<RoundResult> => {
      const instance = instances.get(id)!;
      instance.reported.length = 0;
      let count = 0;
      const compute = async () => {
        count++;
        await sleep(settings.computeMs);
        return makePrediction();
      };
      const key = `RT${seq++}`;
      running = id;
      const since = uncaught.length;
      try {
        const stop = new AbortController();
        const b = await withDeadline(deadlineMs, `${id}: read-through`, burst(settings.callers, settings.callers, () => instance.readThrough!(key, compute), checkRead, stop.signal), stop);
        const other = [...instance.reported, ...uncaughtOf(id, since)];
        const errors = b.errors + other.length;
        if (errors > 0) return { ok: false, errors, ops: settings.callers, reason: b.firstError ?? other[0] ?? 'unknown' };
        if (!warmUp) computes.get(id)!.push(count);
        return { ok: true, value: b.ms, errors: 0 };
      } catch (e) {
        return { ok: false, errors: 1, ops: settings.callers, reason: message(e) };
      }
    },
  );
  // The floor: one compute and one round trip, what a single caller of a missing key must wait.
  const probe = createClient({ url, commandOptions: { timeout: 0 } });
  await probe.connect();
  const floors: number[] = [];
  for (let r = 0; r < settings.rounds; r++) {
    const start = performance.now();
    await sleep(settings.computeMs);
    await probe.sendCommand(['GET', 'floor-probe']);
    floors.push(performance.now() - start);
  }
  await probe.close();
  await closeAll(instances);
  const sdks = contenders.filter((c) => c.role === 'sdk');
  const rows = contenders.map((c) => {
    const mine = rounds.get(c.id)!;
    const failure = showFailure(mine);
    const n = computes.get(c.id)!;
    return [
      c.label,
      failure ? '—' : `${Math.min(...n)}-${Math.max(...n)}`,
      failure ?? showSpread(spread(mine.map((r) => (r.ok ? r.value : 0))), (x) => fixed(x, 1)),
      ...sdks.map((s) => (s.id === c.id ? '—' : showSpread(ratioSpread(rounds.get(s.id)!, mine, false), (x) => fixed(x, 2)))),
    ];
  });
  print(`\n### Read-through: ${int(settings.callers)} concurrent callers of one missing key (compute ${settings.computeMs} ms)\n`);
  print(table(['library (setting)', 'computes per round', 'ms to serve all, median (min-max)', ...sdks.map((s) => `${s.label}: its ms / SDK ms`)], rows));
  print(`\nFloor (one compute + one GET round trip): ${showSpread(spread(floors), (x) => fixed(x, 1))} ms.`);
  out.readThrough = { callers: settings.callers, computeMs: settings.computeMs, floorMs: spread(floors), rounds: Object.fromEntries(rounds), computes: Object.fromEntries(computes), ratios: ratiosOf(contenders, rounds, false) };
}

// ------------------------------------------------------------------------------ coherence

/** Every byte redis-cli's quoted-string parser would not take literally, as \xHH. */
function redisCliQuote(bytes: Buffer): string {
  let s = '"';
  for (const b of bytes) s += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return `${s}"`;
}

interface CoherenceResult {
  reader: string;
  writer: 'library' | 'redis-cli';
  writes: number;
  seen: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  failure?: string;
}

async function coherence(contender: Contender, writer: 'library' | 'redis-cli', server: RedisServer): Promise<CoherenceResult> {
  const prefix = `bp-coh-${contender.id}-${writer}`;
  const key = `coh_${contender.id}_${writer}`;
  const writes = settings.coherenceWrites;
  const base: CoherenceResult = { reader: contender.id, writer, writes, seen: 0 };
  let reader: Instance | undefined;
  running = contender.id;
  const since = uncaught.length;
  try {
    reader = await withDeadline(deadlineMs, `setting up ${contender.label}`, contender.create({ url: server.url, prefix, l1Entries: settings.keys }));
    // The placeholder goes into Redis and into the reader's L1.
    if (!(await reader.set(key, { stamp: PLACEHOLDER }))) return { ...base, failure: 'the placeholder was not stored' };
    await reader.get(key);
    await reader.get(key);
    let template: { redisKey: string; bytes: Buffer; at: number } | undefined;
    if (writer === 'redis-cli') {
      const client = createClient({ url: server.url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      await client.connect();
      const found: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `*${key}*`, COUNT: 1000 })) found.push(...batch.map(String));
      const redisKey = found[0];
      const bytes = redisKey ? await client.get(redisKey) : null;
      await client.close();
      if (!redisKey || !bytes) return { ...base, failure: `the library's key for ${key} was not found in Redis` };
      const at = bytes.indexOf(PLACEHOLDER);
      if (at < 0) return { ...base, failure: 'the placeholder is not in the bytes the library stored (encoded or compressed)' };
      template = { redisKey, bytes, at };
    }
    const delays: number[] = [];
    const readErrors: string[] = [];
    let seen = -1;
    let done = false;
    const last = WARM_WRITES + writes - 1;
    const r = reader;
    // The reader yields between reads: a loop of L1 hits would never let an invalidation in.
    const poll = (async () => {
      while (!done) {
        await new Promise((resolve) => setImmediate(resolve));
        try {
          const stamp = readStamp(await r.get(key));
          if (stamp && stamp.seq > seen) {
            if (stamp.seq >= WARM_WRITES) delays.push(now() - stamp.sentAt);
            seen = stamp.seq;
          }
        } catch (e) {
          readErrors.push(message(e));
          await sleep(1);
        }
      }
    })();
    if (writer === 'library') {
      const script = join(here, 'coherence-writer.ts');
      const child = spawn(process.execPath, ['--import', 'tsx', script, contender.id, server.url, prefix, key, String(writes)], { stdio: ['ignore', 'ignore', 'pipe'], cwd: pkgDir });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await withDeadline(deadlineMs, `${contender.id} writer`, new Promise<number | null>((resolve) => child.on('exit', resolve)));
      if (code !== 0) {
        done = true;
        await poll;
        return { ...base, failure: `the writer process failed (exit ${code}): ${stderr.trim().split('\n').at(-1)?.slice(0, 200)}` };
      }
    } else {
      const cli = spawn('redis-cli', ['-p', String(server.port)], { stdio: ['pipe', 'ignore', 'pipe'] });
      const t = template!;
      for (let s = 0; s <= last; s++) {
        const bytes = Buffer.from(t.bytes);
        bytes.write(makeStamp(s), t.at, 'latin1');
        cli.stdin.write(`SET ${t.redisKey} ${redisCliQuote(bytes)} PX ${3_600_000}\n`);
        await sleep(s < WARM_WRITES ? 10 : 2);
      }
      cli.stdin.end();
      await withDeadline(deadlineMs, 'redis-cli', new Promise((resolve) => cli.on('exit', resolve)));
    }
    const waitUntil = performance.now() + settings.coherenceWaitMs;
    while (seen < last && performance.now() < waitUntil) await sleep(5);
    done = true;
    await poll;
    const errors = [...readErrors, ...r.reported, ...uncaughtOf(contender.id, since)];
    if (errors.length > 0) return { ...base, failure: `${errors.length} errors while reading (first: ${errors[0]})` };
    const sorted = delays.sort((a, b) => a - b);
    if (sorted.length === 0) return { ...base };
    return { ...base, seen: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1)! };
  } catch (e) {
    return { ...base, failure: message(e) };
  } finally {
    if (reader) await withDeadline(10_000, `closing ${contender.id}`, reader.close()).catch(() => {});
  }
}

// ------------------------------------------------------------------------------ bytes per entry

interface MemoryResult {
  id: string;
  entries?: number;
  setupBytes?: number;
  bytesPerEntry?: number;
  redisCommandsInHotPass?: number;
  misses?: number;
  reportedCount?: number;
  reported?: string[];
  failure?: string;
}

async function memory(contender: Contender, server: RedisServer): Promise<MemoryResult> {
  const script = join(here, 'memory-probe.ts');
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, contender.id, server.url, `bp-mem-${contender.id}`, String(settings.memoryEntries), String(server.port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: pkgDir,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const code = await withDeadline(deadlineMs * 2, `${contender.id} memory probe`, new Promise<number | null>((resolve) => child.on('exit', resolve)));
    if (code !== 0) return { id: contender.id, failure: `the probe failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ').slice(0, 200)}` };
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as MemoryResult;
    if ((result.misses ?? 0) > 0 || (result.reportedCount ?? 0) > 0) return { ...result, failure: `${result.misses} misses, ${result.reportedCount} errors (first: ${result.reported?.[0] ?? 'none'})` };
    return result;
  } catch (e) {
    child.kill('SIGKILL');
    return { id: contender.id, failure: message(e) };
  }
}

// ------------------------------------------------------------------------------ main

const startedAt = Date.now();
const server = await startRedisServer();
let sdkFailed = false;
try {
  const redisVersion = /redis_version:(\S+)/.exec(server.cli('INFO', 'server'))?.[1] ?? 'unknown';
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the versions below still say what ran
  }
  const versions = {
    '@finrisk/cache-core': `${versionOf('@finrisk/cache-core')} (workspace, ${commit})`,
    '@finrisk/cache-ml': `${versionOf('@finrisk/cache-ml')} (workspace)`,
    '@redis/client': versionOf('@redis/client'),
    bentocache: versionOf('bentocache'),
    'ioredis (bentocache)': versionOf('ioredis', 'bentocache'),
    cacheable: versionOf('cacheable'),
    '@cacheable/memory': versionOf('@cacheable/memory'),
    'keyv': versionOf('keyv'),
    '@keyv/redis': versionOf('@keyv/redis'),
    'qified (cacheable)': versionOf('qified', 'cacheable'),
    '@qified/redis': versionOf('@qified/redis'),
    'cache-manager': versionOf('cache-manager'),
  };
  Object.assign(out, {
    date: new Date(startedAt).toISOString(),
    node: process.version,
    redis: redisVersion,
    cpus: cpus().length,
    loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    versions,
    settings,
    setups: Object.fromEntries([...REDIS_CONTENDERS, ...L1_CONTENDERS].map((c) => [c.id, { label: c.label, setup: c.setup }])),
    workloads: [],
  });
  print(`# pnpm bench:peers${settings.quick ? ' (quick mode: numbers for checking that it works, not for comparing)' : ''}\n`);
  print(`${new Date(startedAt).toISOString()}; Node.js ${process.version}; Redis ${redisVersion} (a redis-server this run started); ${cpus().length} cores, load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  print(Object.entries(versions).map(([k, v]) => `${k} ${v}`).join('; '));
  if (settings.only.length < 5) print(`\nOnly: ${settings.only.join(', ')} (BENCH_PEERS_ONLY).`);
  print(`\nRounds: ${settings.rounds} measured + 1 warm-up, interleaved library by library in a rotated order; ${int(settings.keys)} keys per library; every write with a TTL of 1 h; ratios are medians of per-round ratios (min-max), above 1 means the SDK did better.`);
  print('\nHow each library is set up:\n');
  print(table(['library (setting)', 'setup'], [...REDIS_CONTENDERS, ...L1_CONTENDERS].map((c) => [c.label, c.setup.replaceAll('|', '/')])));

  const p = settings.inFlight;
  const sectionSeconds: Record<string, number> = {};
  out.sectionSeconds = sectionSeconds;
  let sectionStart = Date.now();
  const endSection = (name: string) => {
    sectionSeconds[name] = Math.round((Date.now() - sectionStart) / 1000);
    sectionStart = Date.now();
  };
  const runs = (section: Section) => settings.only.includes(section);
  // ---- L1 off (or each library's Redis layer alone)
  if (runs('redis')) {
    const instances = await createAll(REDIS_CONTENDERS, server.url, settings.keys, 'redis');
    const broken = await seed(REDIS_CONTENDERS, instances, 1);
    const count = readPassCommands(server);
    const passCommands: Record<string, number> = {};
    for (const c of REDIS_CONTENDERS) if (!broken.has(c.id)) passCommands[c.id] = await count(instances.get(c.id)!);
    out.readPassRedisCommands = passCommands;
    print('\n## L1 off: every call goes to Redis');
    print(`\nRedis commands during one pass of ${int(settings.keys)} reads (one per read: each went to Redis): ${REDIS_CONTENDERS.map((c) => `${c.label} ${passCommands[c.id] ?? 'n/a'}`).join('; ')}.`);
    await throughput(`Redis get, one at a time (${int(settings.seqOps)} calls per round)`, REDIS_CONTENDERS, instances, broken, settings.seqOps, 1, 'get');
    await throughput(`Redis get, ${p} in flight (${int(settings.parOps)} calls per round)`, REDIS_CONTENDERS, instances, broken, settings.parOps, p, 'get');
    await throughput(`set, one at a time (${int(settings.seqOps)} calls per round)`, REDIS_CONTENDERS, instances, broken, settings.seqOps, 1, 'set');
    await throughput(`set, ${p} in flight (${int(settings.parOps)} calls per round)`, REDIS_CONTENDERS, instances, broken, settings.parOps, p, 'set');
    await closeAll(instances);
    endSection('L1 off');
  }
  // ---- L1 on
  if (runs('l1')) {
    const instances = await createAll(L1_CONTENDERS, server.url, settings.keys, 'l1');
    const broken = await seed(L1_CONTENDERS, instances, 2);
    const count = readPassCommands(server);
    const hotCommands: Record<string, number> = {};
    for (const c of L1_CONTENDERS) if (!broken.has(c.id)) hotCommands[c.id] = await count(instances.get(c.id)!);
    out.hotPassRedisCommands = hotCommands;
    print('\n## L1 on: reads served in process, writes through every layer');
    print(`\nRedis commands during one pass of ${int(settings.keys)} hot reads after seeding (0: L1 served them all): ${L1_CONTENDERS.map((c) => `${c.label} ${hotCommands[c.id] ?? 'n/a'}`).join('; ')}.`);
    await throughput(`hot get (L1 hit), one at a time (${int(settings.hotOps)} calls per round)`, L1_CONTENDERS, instances, broken, settings.hotOps, 1, 'get');
    await throughput(`hot get (L1 hit), ${p} in flight (${int(settings.hotOps)} calls per round)`, L1_CONTENDERS, instances, broken, settings.hotOps, p, 'get');
    await throughput(`set with L1 on, one at a time (${int(settings.seqOps)} calls per round)`, L1_CONTENDERS, instances, broken, settings.seqOps, 1, 'set');
    await throughput(`set with L1 on, ${p} in flight (${int(settings.parOps)} calls per round)`, L1_CONTENDERS, instances, broken, settings.parOps, p, 'set');
    await closeAll(instances);
    endSection('L1 on');
  }
  // ---- read-through
  if (runs('read-through')) {
    await readThrough([REDIS_CONTENDERS.find((c) => c.id === 'sdk-ml')!, ...L1_CONTENDERS.filter((c) => c.id !== 'sdk-core-l1')], server.url);
    endSection('read-through');
  }
  // ---- coherence
  if (runs('coherence')) {
    const results: CoherenceResult[] = [];
    for (const c of L1_CONTENDERS) for (const writer of ['library', 'redis-cli'] as const) results.push(await coherence(c, writer, server));
    out.coherence = results;
    endSection('coherence');
    const label = (id: string) => L1_CONTENDERS.find((c) => c.id === id)!.label;
    print(`\n### Coherence: ${settings.coherenceWrites} writes 2 ms apart by another process, and the same by redis-cli of the library's own payload bytes; how long until a reader in this process (polling get) sees each new value\n`);
    print(
      table(
        ['reader (library, setting)', 'writer', 'new values seen', 'delay p50 / p99 / max, ms'],
        results.map((r) => [
          label(r.reader),
          r.writer === 'library' ? 'another process, same library' : 'redis-cli, same bytes',
          r.failure ? `**FAILED**: ${r.failure.replaceAll('|', '/')}` : `${r.seen} of ${r.writes}`,
          r.failure ? '—' : r.seen === 0 ? `never within ${fixed(settings.coherenceWaitMs / 1000, 1)} s` : `${fixed(r.p50Ms!, 2)} / ${fixed(r.p99Ms!, 2)} / ${fixed(r.maxMs!, 2)}`,
        ]),
      ),
    );
  }
  // ---- bytes per entry
  if (runs('memory')) {
    const results: MemoryResult[] = [];
    for (const c of L1_CONTENDERS) results.push(await memory(c, server));
    out.memory = results;
    endSection('bytes per entry');
    const sdk = results.find((r) => r.id === 'sdk-ml-l1');
    print(`\n### Bytes per L1 entry: heap growth per prediction after ${int(settings.memoryEntries)} writes and two read passes, a fresh process per library (--expose-gc)\n`);
    print(
      table(
        ['library (setting)', 'heap per entry, bytes', 'heap of the set-up library, KiB', `Redis commands in a 3rd pass of ${int(settings.memoryEntries)} reads`, 'it / SDK cache-ml'],
        results.map((r) => {
          const c = L1_CONTENDERS.find((x) => x.id === r.id)!;
          if (r.failure) return [c.label, `**FAILED**: ${r.failure.replaceAll('|', '/')}`, '—', '—', '—'];
          return [
            c.label,
            int(r.bytesPerEntry!),
            int(r.setupBytes! / 1024),
            int(r.redisCommandsInHotPass!),
            sdk && !sdk.failure && r.id !== sdk.id ? fixed(r.bytesPerEntry! / sdk.bytesPerEntry!, 2) : '—',
          ];
        }),
      ),
    );
  }
  // An SDK row that failed is a defect of the SDK (or of this harness), not a result: it fails the run.
  const sdkIds = new Set([...REDIS_CONTENDERS, ...L1_CONTENDERS].filter((c) => c.role === 'sdk').map((c) => c.id));
  for (const w of out.workloads as { rounds: Record<string, RoundResult[]> }[]) for (const [id, r] of Object.entries(w.rounds)) if (sdkIds.has(id) && r.some((x) => !x.ok)) sdkFailed = true;
  for (const r of (out.coherence as CoherenceResult[] | undefined) ?? []) if (sdkIds.has(r.reader) && r.failure) sdkFailed = true;
  for (const r of (out.memory as MemoryResult[] | undefined) ?? []) if (sdkIds.has(r.id) && r.failure) sdkFailed = true;
} finally {
  await server.stop();
}
out.uncaught = uncaught;
if (uncaught.length > 0) print(`\nUncaught exceptions thrown by a library's own handlers (counted as errors of the library running then): ${uncaught.length}; first: ${uncaught[0]!.error} (during ${uncaught[0]!.during}).`);
out.seconds = Math.round((Date.now() - startedAt) / 1000);
const file = process.env.BENCH_PEERS_OUT ?? join(repoRoot, 'bench-results', 'bench-peers.json');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
writeFileSync(file.replace(/\.json$/, '.md'), `${lines.join('\n')}\n`);
print(`\n${out.seconds} s (${Object.entries((out.sectionSeconds as Record<string, number> | undefined) ?? {}).map(([k, v]) => `${k} ${v} s`).join(', ')}). Written: ${file} and ${file.replace(/\.json$/, '.md')}`);
if (sdkFailed) {
  console.error('an SDK row failed (see FAILED above): the comparison is not valid');
  process.exitCode = 1;
}
