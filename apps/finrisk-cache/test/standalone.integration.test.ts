import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardProcess } from './dashboard-process.js';
import { lines, runBinary, workspace } from './run-binary.js';

// The single-file bundle and the single executable, built by their scripts, against Redis.

const app = fileURLToPath(new URL('..', import.meta.url));
const bundleFile = join(app, 'dist', 'bundle', 'finrisk-cache.cjs');
const seaFile = join(app, 'dist', 'sea', process.platform === 'win32' ? 'finrisk-cache.exe' : 'finrisk-cache');
let server: RedisServer;

beforeAll(async () => {
  execFileSync(process.execPath, [join(app, 'scripts', 'bundle.mjs')], { stdio: 'pipe' });
  execFileSync(process.execPath, [join(app, 'scripts', 'sea.mjs')], { stdio: 'pipe' });
  server = await startRedisServer();
}, 180_000);

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

  it('without better-sqlite3 next to it, the local backend says what to install and exits 3', async () => {
    const ws = workspace('bundle-nosqlite');
    const alone = join(mkdtempSync(join(tmpdir(), 'finrisk-bundle-alone-')), 'finrisk-cache.cjs');
    copyFileSync(bundleFile, alone);
    const result = await runBinary(['get-feat', 'C'], { command: [process.execPath, alone], cwd: ws.cwd, env: ws.env({ CACHE_BACKEND: 'local' }) });
    expect(result.code).toBe(3);
    expect(lines(result.stderr)).toEqual([expect.stringContaining('needs the optional dependency better-sqlite3')]);
  });

  it('with the node_modules bundle.mjs puts next to it, the embedded store works', async () => {
    const ws = workspace('bundle-local');
    const env = ws.env({ CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(ws.cwd, 'local.db') });
    const command = [process.execPath, bundleFile];
    expect((await runBinary(['cache-feat', 'C', '{"a": 1}'], { command, cwd: ws.cwd, env })).code).toBe(0);
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

  it('uses the embedded store from the node_modules next to it', async () => {
    const ws = workspace('sea-local');
    const env = { ...ws.env({ CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(ws.cwd, 'local.db') }), PATH: ws.cwd };
    expect((await runBinary(['cache-feat', 'C', '{"a": 1}'], { command: [seaFile], cwd: ws.cwd, env })).code).toBe(0);
    expect(JSON.parse((await runBinary(['get-feat', 'C'], { command: [seaFile], cwd: ws.cwd, env })).stdout)).toEqual({ a: 1 });
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
