import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardProcess } from './dashboard-process.js';
import { examplesDir, readGuideExamples, runLine } from '../scripts/guide-examples.mjs';
import { buildReleaseArchive, platformName } from '../scripts/release-archive.mjs';
import { smoke } from '../scripts/smoke-release-archive.mjs';
import { runBinary, workspace } from './run-binary.js';

// The single-file bundle, the single executable and its release archive, built by their scripts,
// against Redis.

const app = fileURLToPath(new URL('..', import.meta.url));
const bundleFile = join(app, 'dist', 'bundle', 'finrisk-cache.cjs');
const seaFile = join(app, 'dist', 'sea', process.platform === 'win32' ? 'finrisk-cache.exe' : 'finrisk-cache');
let server: RedisServer;
let release: { archive: string; checksum: string; folder: string };

beforeAll(async () => {
  execFileSync(process.execPath, [join(app, 'scripts', 'bundle.mjs')], { stdio: 'pipe' });
  // The single executable (dist/sea) and the archive the release workflow attaches (dist/release).
  release = await buildReleaseArchive();
  server = await startRedisServer();
}, 300_000);

afterAll(async () => {
  await server?.stop();
});

const prediction = '{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}';

/** The round trip every build must pass against Redis. */
async function roundTrip(command: string[], envOf: (extra: Record<string, string>) => Record<string, string>, cwd: string) {
  const env = envOf({ REDIS_URL: server.url, CACHE_KEY_PREFIX: uniquePrefix('standalone') });
  const check = await runBinary(['check'], { command, cwd, env });
  expect(check.code, check.stderr).toBe(0);
  expect((await runBinary(['cache-pred', 'CUST001', 'credit', prediction], { command, cwd, env })).code).toBe(0);
  const read = await runBinary(['get-pred', 'CUST001', 'credit'], { command, cwd, env });
  expect(JSON.parse(read.stdout)).toEqual({ risk_score: 0.75, decision: 'approve', confidence: 0.92 });
  const df = await runBinary(['cache-df', 'customer_data', 'data/customers.csv'], { command, cwd, env });
  expect(df.stdout, df.stderr).toContain('8 rows x 8 columns');
  expect((await runBinary(['get-df', 'customer_data'], { command, cwd, env })).stdout).toMatch(/^CUST001\s+35\s+/m);
  expect((await runBinary(['stats'], { command, cwd, env })).stdout).toMatch(/^Hit Rate\s+/m);
  expect((await runBinary(['get-pred', 'NOBODY', 'credit'], { command, cwd, env })).code).toBe(1);
}

/** The dashboard from `command` serves its page, script and uPlot from inside the file (no node_modules, no CDN). */
async function servesDashboard(command: string[], env: Record<string, string>, cwd: string) {
  const dashboard = await startDashboardProcess(['--port', String(await freePort())], { command, cwd, env: { ...env, REDIS_URL: server.url } });
  try {
    const page = await fetch(`${dashboard.base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/assets/page.js" defer></script>');
    for (const [asset, marker] of [['page.js', 'EventSource'], ['uPlot.iife.min.js', 'var uPlot=function()'], ['uPlot.min.css', '.uplot']]) {
      const res = await fetch(`${dashboard.base}/assets/${asset}`);
      expect(res.status, asset).toBe(200);
      expect(await res.text(), asset).toContain(marker);
    }
  } finally {
    expect(await dashboard.stop()).toBe(0);
  }
}

describe('bundle (one .cjs file run by node)', () => {
  it('runs alone, copied to an empty folder with no node_modules', async () => {
    const ws = workspace('bundle');
    const alone = join(mkdtempSync(join(tmpdir(), 'finrisk-bundle-alone-')), 'finrisk-cache.cjs');
    copyFileSync(bundleFile, alone);
    await roundTrip([process.execPath, alone], ws.env, ws.cwd);
  });

  it('serves the dashboard with the page and uPlot inside the file, copied alone to an empty folder', async () => {
    const ws = workspace('bundle-dashboard');
    const alone = join(mkdtempSync(join(tmpdir(), 'finrisk-bundle-alone-')), 'finrisk-cache.cjs');
    copyFileSync(bundleFile, alone);
    await servesDashboard([process.execPath, alone], ws.env(), ws.cwd);
  });

  it('copied alone to an empty folder, keeps the embedded store (node:sqlite), with nothing on stderr', async () => {
    const ws = workspace('bundle-local');
    const alone = join(mkdtempSync(join(tmpdir(), 'finrisk-bundle-alone-')), 'finrisk-cache.cjs');
    copyFileSync(bundleFile, alone);
    const env = ws.env({ CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(ws.cwd, 'local.db') });
    const command = [process.execPath, alone];
    const write = await runBinary(['cache-feat', 'C', '{"a": 1}'], { command, cwd: ws.cwd, env });
    expect({ code: write.code, stderr: write.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse((await runBinary(['get-feat', 'C'], { command, cwd: ws.cwd, env })).stdout)).toEqual({ a: 1 });
    expect(existsSync(join(ws.cwd, 'local.db'))).toBe(true);
  });
});

describe('single executable (no node on the PATH)', () => {
  it('runs against Redis with an empty PATH', async () => {
    const ws = workspace('sea');
    const emptyBin = join(ws.cwd, 'empty-bin');
    mkdirSync(emptyBin);
    await roundTrip([seaFile], (extra) => ({ ...ws.env(extra), PATH: emptyBin }), ws.cwd);
  });

  it('uses the embedded store inside it (node:sqlite), copied alone to an empty folder', async () => {
    const ws = workspace('sea-local');
    const alone = join(mkdtempSync(join(tmpdir(), 'finrisk-sea-alone-')), basename(seaFile));
    copyFileSync(seaFile, alone);
    const env = { ...ws.env({ CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(ws.cwd, 'local.db') }), PATH: ws.cwd };
    const write = await runBinary(['cache-feat', 'C', '{"a": 1}'], { command: [alone], cwd: ws.cwd, env });
    expect({ code: write.code, stderr: write.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse((await runBinary(['get-feat', 'C'], { command: [alone], cwd: ws.cwd, env })).stdout)).toEqual({ a: 1 });
  });

  it('serves the dashboard with the page and uPlot inside the executable', async () => {
    const ws = workspace('sea-dashboard');
    const emptyBin = join(ws.cwd, 'empty-bin');
    mkdirSync(emptyBin);
    await servesDashboard([seaFile], { ...ws.env(), PATH: emptyBin }, ws.cwd);
  });

  it('prints --version and exits 2 on bad usage, like the bin', async () => {
    const ws = workspace('sea-usage');
    expect((await runBinary(['--version'], { command: [seaFile], cwd: ws.cwd, env: ws.env() })).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = await runBinary(['chek'], { command: [seaFile], cwd: ws.cwd, env: ws.env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("did you mean 'check'?");
  });
});

describe(`release archive (${platformName()}, as the release workflow builds it)`, () => {
  it('is named for its version and platform, and sha256sum -c accepts its checksum file', () => {
    const version = (JSON.parse(readFileSync(join(app, 'node_modules', '@finrisk', 'cache-cli', 'package.json'), 'utf8')) as { version: string }).version;
    expect(basename(release.archive)).toBe(`finrisk-cache-${version}-${platformName()}.tar.gz`);
    const check = spawnSync('sha256sum', ['-c', basename(release.checksum)], { cwd: dirname(release.archive), encoding: 'utf8' });
    expect(check.stdout, check.stderr).toBe(`${basename(release.archive)}: OK\n`);
    expect(check.status).toBe(0);
  });

  it('unpacked into an empty folder, runs alone: version, embedded store, fallback when Redis is down', async () => {
    const { cleanup } = await smoke(release.archive);
    cleanup();
  }, 120_000);

  it("runs every example of the guide against Redis, from an empty folder, with no node on the PATH", async () => {
    const { folder, cleanup } = await smoke(release.archive);
    const root = mkdtempSync(join(tmpdir(), 'finrisk-release-guide-'));
    try {
      // The PATH: the unpacked folder (the executable alone) and a folder holding
      // only grep, which `finrisk-cache stats | grep "Hit Rate"` pipes into. /bin/sh runs each line.
      const tools = join(root, 'tools');
      mkdirSync(tools);
      symlinkSync(execFileSync('/bin/sh', ['-c', 'command -v grep'], { encoding: 'utf8' }).trim(), join(tools, 'grep'));
      const cwd = join(root, 'work');
      mkdirSync(cwd);
      cpSync(join(examplesDir, 'data'), join(cwd, 'data'), { recursive: true });
      const prefix = uniquePrefix('release');
      const env = { PATH: tools, HOME: root, REDIS_URL: server.url, CACHE_KEY_PREFIX: prefix, CACHE_LOCAL_PATH: join(root, 'local.db') };

      const noNode = await runLine('command -v node || echo "no node"', { cwd, bin: folder, env });
      expect(noNode.stdout).toBe('no node\n');

      const outputs = new Map<string, string>();
      for (const line of readGuideExamples()) {
        const result = await runLine(line, { cwd, bin: folder, env });
        expect(result.code, `${line}\n${result.stderr}`).toBe(0);
        expect(result.stderr, line).toBe('');
        if (!outputs.has(line)) outputs.set(line, result.stdout);
      }
      expect(JSON.parse(outputs.get('finrisk-cache get-pred CUST001 credit')!)).toEqual({ risk_score: 0.75, decision: 'approve', confidence: 0.92 });
      expect(JSON.parse(outputs.get('finrisk-cache get-feat CUST001')!)).toMatchObject({ age: 35, credit_score: 720 });
      expect(outputs.get('finrisk-cache get-df customer_data')).toContain('customer_data: 8 rows x 8 columns');
      expect(outputs.get('finrisk-cache stats | grep "Hit Rate"')).toMatch(/^Hit Rate\s+\d+\.\d\d%\n$/);
      expect(outputs.get('finrisk-cache check')).toMatch(/^OK {2}Redis at /);
      expect(readFileSync(join(cwd, 'customers_export.csv'), 'utf8')).toBe(readFileSync(join(cwd, 'data', 'customers.csv'), 'utf8'));
      expect(server.cli('EXISTS', `${prefix}:feature:CUST001`)).toBe('1'); // written to Redis, not to the embedded store
      expect(existsSync(join(root, 'local.db'))).toBe(false);
    } finally {
      cleanup();
      rmSync(root, { recursive: true, force: true });
    }
  }, 180_000);
});
