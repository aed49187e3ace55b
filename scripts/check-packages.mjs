#!/usr/bin/env node
// Checks what would be published, not the workspace: for every published package it builds, packs
// with pnpm (which rewrites `workspace:` ranges), runs publint and @arethetypeswrong/cli on the
// tarball, then installs all the tarballs with npm into an empty folder OUTSIDE the workspace,
// imports every public entry point there, type-checks a TypeScript consumer against them, and runs
// the `finrisk-cache` bin of @finrisk/cache-cli against a redis-server it starts (and without one).
// The install leaves out optional dependencies (`--omit=optional`) and has no compiler on the PATH:
// the bin must still run, the embedded store (node:sqlite) included. (`npm i -g` from a registry,
// with npm 11 and 12, is scripts/release-rehearsal.mjs's.)
// KEEP_PACK_DIR=1 keeps the temporary folders for a look afterwards.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { pathWithoutCompilers } from './lib/no-compilers.mjs';
import { startRedis } from './lib/redis.mjs';
import { publishedPackages, root, step } from './lib/workspace.mjs';

const CLI = '@finrisk/cache-cli';
const bin = (name) => join(root, 'node_modules', '.bin', name);
const problems = [];

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: options.capture ? 'pipe' : 'inherit', ...options });
  if (r.error) throw r.error;
  return r;
}
function must(cmd, args, options = {}) {
  const r = run(cmd, args, options);
  if (r.status !== 0) {
    if (options.capture) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  }
  return r;
}
function problem(message) {
  problems.push(message);
  process.stderr.write(`  PROBLEM ${message}\n`);
}

const work = mkdtempSync(join(tmpdir(), 'finrisk-pack-'));
const tarballDir = join(work, 'tarballs');
const consumer = join(work, 'consumer');
mkdirSync(tarballDir);
mkdirSync(consumer);
if (!relative(root, consumer).startsWith('..')) throw new Error(`${consumer} is inside the workspace; set TMPDIR elsewhere`);

let redis;
try {
  const packages = publishedPackages();
  const all = packages.map((p) => ({ name: p.name, relDir: p.relDir }));

  step('build');
  must('pnpm', ['exec', 'turbo', 'run', 'build', ...all.map((p) => `--filter=${p.name}`), '--output-logs=errors-only']);

  step('pack, publint, attw');
  const tarballs = new Map();
  for (const p of all) {
    const before = new Set(readdirSync(tarballDir));
    must('pnpm', ['pack', '--pack-destination', tarballDir], { cwd: join(root, p.relDir), capture: true });
    const file = readdirSync(tarballDir).find((f) => !before.has(f));
    if (!file) throw new Error(`pnpm pack made no tarball for ${p.name}`);
    const tgz = join(tarballDir, file);
    tarballs.set(p.name, tgz);
    const listing = must('tar', ['-tzf', tgz], { capture: true }).stdout.split('\n').filter(Boolean);
    const manifest = JSON.parse(must('tar', ['-xOzf', tgz, 'package/package.json'], { capture: true }).stdout);
    console.log(`${p.name}@${manifest.version}: ${file}, ${listing.length} files`);

    const ranges = ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.entries(manifest[field] ?? {}).map(([dep, range]) => [field, dep, range]),
    );
    for (const [field, dep, range] of ranges) {
      if (String(range).startsWith('workspace:')) problem(`${p.name}: ${field}.${dep} is still ${range} in the tarball`);
    }
    for (const f of listing) {
      if (/\.(test|spec)\.[cm]?[jt]s$|^package\/(src|test|bench)\//.test(f)) problem(`${p.name}: ${f} would be published`);
    }
    for (const [name, file] of Object.entries(manifest.bin ?? {})) {
      if (!listing.includes(`package/${file.replace(/^\.\//, '')}`)) problem(`${p.name}: bin ${name} is ${file}, which is not in the tarball`);
    }
    if (p.name === CLI && manifest.bin?.['finrisk-cache'] === undefined) problem(`${p.name}: has no finrisk-cache bin`);
    if (!listing.includes('package/README.md')) problem(`${p.name}: README.md is not in the tarball`);

    const lint = run(bin('publint'), ['run', tgz, '--strict'], { capture: true });
    if (lint.status !== 0) problem(`${p.name}: publint failed\n${lint.stdout}${lint.stderr}`);
    else console.log(`  publint --strict: ${/All good/.test(lint.stdout) ? 'all good' : lint.stdout.trim()}`);

    // ESM-only packages: the esm-only profile leaves out the CommonJS `require` resolutions.
    // attw exits 0 for a package without any types at all, so its JSON says whether it found them.
    const types = run(bin('attw'), [tgz, '--profile', 'esm-only', '--format', 'json'], { capture: true });
    let report;
    try {
      report = JSON.parse(types.stdout);
    } catch {
      report = undefined;
    }
    if (types.status !== 0 || !report) problem(`${p.name}: attw failed\n${types.stdout.slice(0, 4000)}${types.stderr}`);
    else if (report.analysis?.types === false) problem(`${p.name}: attw found no type declarations in the tarball`);
    else console.log('  attw --profile esm-only: no problems, types found');
  }

  step(`npm install of the tarballs into ${consumer}`);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'finrisk-consumer', private: true, type: 'module' }, null, 2));
  // The optional peers the adapters work with come from the registry, like every third-party dependency.
  const noCompilers = pathWithoutCompilers(join(work, 'path-without-compilers'));
  must('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--omit=optional', ...tarballs.values(), 'prom-client@15', '@opentelemetry/api@1', 'typescript@5.9', '@types/node@22'], {
    cwd: consumer,
    env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${noCompilers}` },
  });

  step('import every public entry point');
  const entries = packages.flatMap((p) =>
    Object.keys(p.pkg.exports ?? { '.': null })
      .filter((k) => k !== './package.json')
      .map((k) => (k === '.' ? p.name : `${p.name}/${k.slice(2)}`)),
  );
  writeFileSync(join(consumer, 'smoke.mjs'), smokeScript(entries));
  must(process.execPath, ['smoke.mjs'], { cwd: consumer });

  step('type-check a TypeScript consumer (NodeNext, strict)');
  writeFileSync(join(consumer, 'consumer.ts'), consumerTs());
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.ts'] }),
  );
  must(join(consumer, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: consumer });
  console.log('consumer.ts type-checks');

  step('the finrisk-cache bin of @finrisk/cache-cli, installed with no compiler and no optional dependency');
  const cli = join(consumer, 'node_modules', '.bin', 'finrisk-cache');
  redis = await startRedis();
  const { url } = redis;
  // HOME inside the consumer folder: the embedded store's default file is never the developer's.
  const env = { ...process.env, NO_COLOR: '1', HOME: consumer, XDG_CACHE_HOME: join(consumer, '.cache') };
  for (const k of Object.keys(env)) if (/^(REDIS_|CACHE_)/.test(k)) delete env[k];
  const cliRun = (...args) => run(cli, args, { cwd: consumer, capture: true, env });
  const expectExit = (label, r, status, pattern) => {
    const out = `${r.stdout}${r.stderr}`.trim();
    console.log(`  ${label}: exit ${r.status}  ${out.split('\n')[0]}`);
    if (r.status !== status) problem(`finrisk-cache ${label}: exit ${r.status}, expected ${status}\n${out}`);
    else if (pattern && !pattern.test(out)) problem(`finrisk-cache ${label}: output does not match ${pattern}\n${out}`);
  };
  expectExit('--version', cliRun('--version'), 0, /\d+\.\d+\.\d+/);
  expectExit('--help', cliRun('--help'), 0, /cache-pred/);
  let checked;
  for (let i = 0; i < 50; i++) {
    checked = cliRun('check', '--url', url);
    if (checked.status === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expectExit('check (Redis up)', checked, 0);
  expectExit('cache-pred', cliRun('cache-pred', 'CUST001', 'credit', '{"risk_score": 0.75, "decision": "approve"}', '--url', url), 0);
  expectExit('get-pred', cliRun('get-pred', 'CUST001', 'credit', '--json', '--url', url), 0, /0\.75/);
  expectExit('get-pred (miss)', cliRun('get-pred', 'NOBODY', 'credit', '--url', url), 1);
  redis.kill();
  expectExit('check (Redis down)', cliRun('check', '--url', url), 3);
  const stored = cliRun('cache-feat', 'C', '{"a": 1}', '--backend', 'local', '--url', url);
  expectExit('cache-feat --backend local', stored, 0);
  if (stored.stderr !== '') problem(`finrisk-cache cache-feat --backend local wrote to stderr (on ${process.version}):\n${stored.stderr}`);
  expectExit('get-feat --backend local', cliRun('get-feat', 'C', '--backend', 'local', '--url', url), 0, /"a": 1/);
  const fellBack = cliRun('cache-feat', 'C', '{"a": 2}', '--url', url);
  expectExit('cache-feat (auto, Redis down)', fellBack, 0, /using the embedded store at /);
} catch (error) {
  problem(error instanceof Error ? error.message : String(error));
} finally {
  redis?.stop();
  if (process.env.KEEP_PACK_DIR) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

if (problems.length > 0) {
  process.stderr.write(`\ncheck-packages: ${problems.length} problem(s)\n`);
  process.exit(1);
}
console.log('\ncheck-packages: every tarball lints, installs outside the workspace, imports and runs');

function smokeScript(entries) {
  return `// Written by scripts/check-packages.mjs: runs in a folder where only the tarballs are installed.
import assert from 'node:assert/strict';
import * as promClient from 'prom-client';
import { fileURLToPath } from 'node:url';

const entries = ${JSON.stringify(entries)};
for (const entry of entries) {
  const url = import.meta.resolve(entry);
  assert.ok(fileURLToPath(url).includes('/node_modules/'), entry + ' resolved outside node_modules: ' + url);
  const mod = await import(entry);
  assert.ok(Object.keys(mod).length > 0, entry + ' exports nothing');
  console.log('  ' + entry.padEnd(34) + Object.keys(mod).length + ' exports');
}

const { createCache, FinRiskCacheError } = await import('@finrisk/cache-core');
const { createMlCache } = await import('@finrisk/cache-ml');
const { createFrameCache } = await import('@finrisk/cache-frames');
const { registerPrometheusMetrics } = await import('@finrisk/cache-core/prometheus');
const { registerOpenTelemetryMetrics } = await import('@finrisk/cache-core/opentelemetry');
const { runCli, ExitCode } = await import('@finrisk/cache-cli');
const aq = await import('arquero');

const cache = createCache({ backend: 'memory', envFile: false });
const registry = new promClient.Registry();
registerPrometheusMetrics(cache, { client: promClient, registry });
assert.equal(typeof registerOpenTelemetryMetrics, 'function');

const ml = createMlCache(cache);
await ml.cacheModelPrediction('CUST001', 'credit', { risk_score: 0.75, model_version: 'v1' });
assert.equal((await ml.getCachedPrediction('CUST001', 'credit'))?.risk_score, 0.75);
const frames = createFrameCache(cache);
assert.equal(await frames.cacheDataFrame('t', aq.table({ id: ['a', 'b'], x: [1, 2] })), true);
assert.equal((await frames.getCachedDataFrame('t'))?.numRows(), 2);
assert.match(await registry.metrics(), /finrisk_cache_hits_total\\{kind="prediction"\\} 1/);
assert.throws(() => cache.keys.key('kv', ''), (e) => FinRiskCacheError.isInstance(e) && e.code === 'E_INVALID_KEY');
await cache.close();

let out = '';
const code = await runCli(['--version'], { stdout: { write: (s) => { out += s; return true; } }, env: {} });
assert.equal(code, ExitCode.OK);
assert.match(out, /\\d+\\.\\d+\\.\\d+/);
console.log('  memory cache, ml, frames, prometheus and runCli work from the tarballs');
`;
}

function consumerTs() {
  return `// Written by scripts/check-packages.mjs: the public types, as a TypeScript user sees them.
import { createCache, FinRiskCacheError, type Cache, type CacheStats } from '@finrisk/cache-core';
import { registerPrometheusMetrics } from '@finrisk/cache-core/prometheus';
import { registerOpenTelemetryMetrics } from '@finrisk/cache-core/opentelemetry';
import { createMlCache, type MlCache } from '@finrisk/cache-ml';
import { createFrameCache } from '@finrisk/cache-frames';
import { runCli, type CliIo } from '@finrisk/cache-cli';
import * as promClient from 'prom-client';
import { metrics } from '@opentelemetry/api';

interface Credit { risk_score: number; decision: string }
const cache: Cache = createCache({ backend: 'memory' });
const ml: MlCache<Credit> = createMlCache<Credit>(cache);
const p: Credit | null = await ml.getCachedPrediction('CUST001', 'credit');
const stats: CacheStats = await cache.stats();
const frames = createFrameCache(cache);
const stop: () => void = registerPrometheusMetrics(cache, { client: promClient });
registerOpenTelemetryMetrics(cache, { meter: metrics.getMeter('consumer') });
const io: Partial<CliIo> = { env: {} };
const code: number = await runCli(['--help'], io);
const isOurs: boolean = FinRiskCacheError.isInstance(new Error('x'));
console.log(p, stats.status, frames, stop, code, isOurs);
`;
}
