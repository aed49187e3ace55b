/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The page-side callbacks below (page.evaluate) run in the browser.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './browser.js';
import { startDashboardProcess, type DashboardProcess } from './dashboard-process.js';
import { runBinary, workspace } from './run-binary.js';
import { runService, type ProcessStats, type ServiceStep } from './sdk-service.js';

// `finrisk-cache dashboard` as a user runs it: the built binary as a subprocess (its URL read from
// its first line on stdout), a throwaway redis-server, and the page in headless Chromium driven
// by playwright-core. Every page must load and run without a console error.

const ws = workspace('dashboard');
const prefix = uniquePrefix('dash-app');
const INJECTED = '<img src=x onerror=window.__pwned=1>';
const FAST = ['--refresh', '0.3', '--fleet-interval', '1', '--keys-interval', '1'];
/** Test intervals on a free port (7379, the default, may be taken on a shared machine). */
const args = async (...extra: string[]) => [...FAST, '--port', String(await freePort()), ...extra];
let server: RedisServer;
let browser: TestBrowser;
let dashboard: DashboardProcess;
const env = (extra: Record<string, string> = {}) => ws.env({ REDIS_URL: server.url, CACHE_KEY_PREFIX: prefix, NO_COLOR: '1', ...extra });
const cli = async (args: string[]) => {
  const result = await runBinary(args, { cwd: ws.cwd, env: env() });
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result;
};

/** A CSV of `rows` customers; row 3's note holds markup that would run if it were parsed. */
function writeWideCsv(path: string, rows: number): void {
  const lines = ['id,name,score,note'];
  for (let i = 0; i < rows; i++) lines.push(`${i},customer ${i},${i}.5,${i === 3 ? INJECTED : `note ${i}`}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

beforeAll(async () => {
  server = await startRedisServer();
  await cli(['cache-pred', 'CUST001', 'credit', '{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}']);
  await cli(['cache-pred', 'CUST001', 'fraud', '{"fraud_probability": 0.15, "risk_level": "low"}']);
  await cli(['cache-feat', 'CUST001', JSON.stringify({ age: 41, income: 75000, bio: INJECTED })]);
  writeWideCsv(join(ws.cwd, 'wide.csv'), 120);
  await cli(['cache-df', 'customers_120', 'wide.csv']);
  await cli(['cache-df', 'customer_data', 'data/customers.csv']);
  browser = await launchBrowser();
  dashboard = await startDashboardProcess(await args(), { cwd: ws.cwd, env: env() });
}, 120_000);

afterAll(async () => {
  if (dashboard) expect(await dashboard.stop()).toBe(0);
  await browser?.close();
  await server?.stop();
});

/** A page on `url` whose console errors are checked after the test. */
const pages: { errors: string[]; page: Page }[] = [];
async function open(url: string): Promise<Page> {
  const opened = await browser.page();
  pages.push(opened);
  const response = await opened.page.goto(url);
  expect(response?.status()).toBe(200);
  return opened.page;
}
afterEach(async () => {
  for (const { page, errors } of pages.splice(0)) {
    await page.close();
    expect(errors).toEqual([]);
  }
});

/** Pixels drawn on a chart's canvas, and how many of them are `color` (the first series' stroke). */
function canvasPixels(page: Page, id: string, color: [number, number, number]) {
  return page.evaluate(
    ([selector, [r, g, b]]) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`${selector} canvas`);
      if (!canvas) return { drawn: 0, series: 0 };
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let drawn = 0;
      let series = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! === 0) continue;
        drawn++;
        if (data[i + 3]! > 200 && Math.abs(data[i]! - r) < 20 && Math.abs(data[i + 1]! - g) < 20 && Math.abs(data[i + 2]! - b) < 20) series++;
      }
      return { drawn, series };
    },
    [`#${id}`, color] as const,
  );
}

const noMarkupRan = (page: Page) => page.evaluate(() => ({ images: document.querySelectorAll('img').length, pwned: (window as unknown as { __pwned?: unknown }).__pwned ?? null }));

describe('the page (read-only, loopback)', () => {
  it('prints its URL first, loads without console errors and draws the charts', async () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await open(dashboard.url);
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 20_000 }).toBe('healthy');
    expect(await page.locator('#address').textContent()).toBe(server.url);
    expect(await page.locator('#mode').textContent()).toBe('read-only');
    // The memory chart's line is drawn in its series colour (#2563eb) once there are samples.
    await expect.poll(async () => (await canvasPixels(page, 'chart-memory', [37, 99, 235])).series, { timeout: 20_000 }).toBeGreaterThan(20);
    for (const id of ['chart-hit-rate', 'chart-memory', 'chart-ops', 'chart-latency']) {
      expect((await canvasPixels(page, id, [0, 0, 0])).drawn, id).toBeGreaterThan(500);
    }
    await expect.poll(() => page.locator('#census td').allTextContents(), { timeout: 20_000 }).toEqual(expect.arrayContaining(['prediction', '2', 'feature', '1', 'dataframe']));
    const cards = await page.locator('#cards .card .label').allTextContents();
    expect(cards).toEqual(['Status', 'Backend', 'Memory', 'Server hit rate', 'Operations/s', 'Keys', 'Latency', 'Server']);
  }, 60_000);

  it('looks a customer up: type the id, press Enter', async () => {
    const page = await open(`${dashboard.base}/#customers`);
    await page.locator('#customer-id').fill('CUST001');
    await page.locator('#customer-id').press('Enter');
    await page.locator('#customer-entries').waitFor({ timeout: 20_000 });
    expect(await page.locator('#customer-heading').textContent()).toBe('CUST001: 2 predictions, features');
    const rows = await page.locator('#customer-entries tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(rows.map((r) => [r[0], r[1], r[4], r[5]])).toEqual([
      ['prediction', 'credit', 'fresh', `${prefix}:prediction:CUST001:credit`],
      ['prediction', 'fraud', 'fresh', `${prefix}:prediction:CUST001:fraud`],
      ['feature', '', 'fresh', `${prefix}:feature:CUST001`],
    ]);
    for (const row of rows) expect(row[2]).toMatch(/^\d+m( \d+s)?$/);
    const credit = await page.locator('.entry[data-model="credit"] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(credit).toEqual([['risk_score', '0.75'], ['decision', 'approve'], ['confidence', '0.92']]);
    // The feature that holds markup is shown as text, and nothing ran.
    expect(await page.locator('.entry[data-kind="feature"] td', { hasText: INJECTED }).count()).toBe(1);
    expect(await noMarkupRan(page)).toEqual({ images: 0, pwned: null });
    expect(await page.getByRole('button', { name: /Clear/ }).count()).toBe(0);
    // A customer with nothing cached, and an id the cache refuses.
    await page.locator('#customer-id').fill('NOBODY');
    await page.locator('#customer-id').press('Enter');
    await expect.poll(() => page.locator('#customer-result').textContent()).toContain('Nothing is cached for customer NOBODY.');
  }, 60_000);

  it('lists the data frames; a click on a name shows its schema and first 50 rows', async () => {
    const page = await open(`${dashboard.base}/#frames`);
    await page.locator('#frames-table').waitFor({ timeout: 20_000 });
    const list = await page.locator('#frames-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(list.map((r) => r.slice(0, 4))).toEqual([
      ['customer_data', '8', '8', expect.stringMatching(/KB$/)],
      ['customers_120', '120', '4', expect.stringMatching(/KB$/)],
    ]);
    await page.getByRole('button', { name: 'customers_120' }).click();
    await page.locator('#frame-rows').waitFor({ timeout: 20_000 });
    expect(await page.locator('#frame-heading').textContent()).toBe('customers_120: 120 rows x 4 columns');
    const schema = await page.locator('#frame-schema tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent]));
    expect(schema).toEqual([['id', 'int32'], ['name', 'utf8'], ['score', 'float64'], ['note', 'utf8']]);
    expect(await page.locator('#frame-rows thead th').allTextContents()).toEqual(['id', 'name', 'score', 'note']);
    expect(await page.locator('#frame-rows tbody tr').count()).toBe(50);
    expect(await page.locator('#frame-rows tbody tr').nth(49).locator('td').first().textContent()).toBe('49');
    // The cell that holds markup is shown as text, and nothing ran.
    expect(await page.locator('#frame-rows tbody tr').nth(3).locator('td').nth(3).textContent()).toBe(INJECTED);
    expect(await noMarkupRan(page)).toEqual({ images: 0, pwned: null });
    expect(await page.getByRole('button', { name: /Clear/ }).count()).toBe(0);
  }, 60_000);

  it('shows the server on the Nodes tab', async () => {
    const page = await open(`${dashboard.base}/#nodes`);
    await expect.poll(() => page.locator('#topology td').allTextContents(), { timeout: 20_000 }).toEqual([server.url, 'healthy']);
  }, 60_000);

  it('says what it leaves out: the values past a lookup\'s answer limit, and a frame too large to preview', async () => {
    // Written with the workspace's packages (the app depends on cache-cli only).
    const built = (path: string) => new URL(`../../../packages/${path}`, import.meta.url).href;
    const { createCache } = (await import(built('cache-core/dist/index.js'))) as typeof import('../../../packages/cache-core/dist/index.js');
    const { createMlCache } = (await import(built('cache-ml/dist/index.js'))) as typeof import('../../../packages/cache-ml/dist/index.js');
    const { createFrameCache } = (await import(built('cache-frames/dist/index.js'))) as typeof import('../../../packages/cache-frames/dist/index.js');
    type Table = Parameters<ReturnType<typeof createFrameCache>['cacheDataFrame']>[1];
    const aq = (await import(built('cache-frames/node_modules/arquero/src/index.js'))) as { table(columns: Record<string, ArrayLike<unknown>>): Table };
    const cache = createCache({ url: server.url, backend: 'redis', keyPrefix: prefix, envFile: false, env: {}, statsPublish: false, commandTimeoutMs: 10_000 });
    try {
      // 12 values of 300 fields x 300 characters: about 1.2 MB as the page shows them, over the 1 MiB answer.
      const ml = createMlCache(cache);
      for (let m = 0; m < 12; m++) {
        const value = Object.fromEntries(Array.from({ length: 300 }, (_, f) => [`f${f}`, `${m}`.padEnd(300, 'v')]));
        expect(await ml.cacheModelPrediction('WIDE01', `m${String(m).padStart(2, '0')}`, value)).toBe(true);
      }
      // 36 MB of float64 zeros, deflated to a few hundred KB: over the 32 MiB the dashboard previews.
      expect(await createFrameCache(cache, { compression: 'deflate' }).cacheDataFrame('inflates', aq.table({ x: new Float64Array(4_500_000) }))).toBe(true);
    } finally {
      await cache.close();
    }

    const page = await open(`${dashboard.base}/#customers`);
    await page.locator('#customer-id').fill('WIDE01');
    await page.locator('#customer-id').press('Enter');
    await page.locator('#customer-entries').waitFor({ timeout: 20_000 });
    expect(await page.locator('#customer-entries tbody tr').count()).toBe(12);
    expect(await page.locator('#customer-omitted').textContent()).toMatch(
      /^\d+ values? (is|are) not shown: this answer reached its 1\.00MB limit\. finrisk-cache inspect WIDE01 lists them all; get-pred and get-feat print a value\.$/,
    );
    expect(await page.locator('.entry p.muted', { hasText: 'Value not shown: this answer reached its 1.00MB limit.' }).count()).toBeGreaterThan(0);
    expect(await page.locator('.entry[data-model="m00"] tbody tr').count()).toBe(300);

    await page.goto(`${dashboard.base}/#frames`);
    await page.getByRole('button', { name: 'inflates' }).click();
    await expect.poll(() => page.locator('#frame-too-large').textContent(), { timeout: 20_000 }).toMatch(
      /^inflates is too large to preview here: the dashboard previews frames of up to 32\.00MB once decoded \(this one is [\d.]+KB stored\)\. Use finrisk-cache info-df inflates, or get-df inflates --rows 50\.$/,
    );
  }, 120_000);
});

describe('two services writing through the SDK', () => {
  // Different read patterns per service and kind, so that each hit rate is its own.
  const scoring: ServiceStep[] = [
    ...['A1', 'A2', 'A3', 'A4', 'A5', 'A6'].map((customer) => ({ op: 'pred-write' as const, customer, model: 'credit' })),
    ...['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'X1', 'X2', 'X3'].map((customer) => ({ op: 'pred-read' as const, customer, model: 'credit' })),
    { op: 'feat-read', customer: 'A1' },
    { op: 'feat-write', customer: 'A1', features: { age: 30 } },
    { op: 'feat-read', customer: 'A1' },
    { op: 'feat-read', customer: 'A1' },
  ];
  const batch: ServiceStep[] = [
    ...['B1', 'B2', 'B3', 'B4'].map((customer) => ({ op: 'pred-read' as const, customer, model: 'fraud' })),
    ...['B1', 'B2', 'B3', 'B4'].map((customer) => ({ op: 'pred-write' as const, customer, model: 'fraud' })),
    ...['B1', 'B2', 'B3', 'B4'].map((customer) => ({ op: 'pred-read' as const, customer, model: 'fraud' })),
    { op: 'feat-write', customer: 'B1', features: { age: 50 } },
    { op: 'feat-read', customer: 'B1' },
    { op: 'feat-read', customer: 'B1' },
    { op: 'feat-read', customer: 'B9' },
    { op: 'artifact-write', model: 'credit_risk', version: 'v3' },
  ];
  const own: Record<string, ProcessStats> = {};
  const pct = (hits: number, misses: number) => `${((hits / (hits + misses)) * 100).toFixed(2)}%`;

  beforeAll(async () => {
    // Statistics live three intervals after the last publication: long enough for this test.
    const serviceEnv = (name: string) => env({ CACHE_SERVICE_NAME: name, CACHE_STATS_INTERVAL: '60', CACHE_BACKEND: 'redis' });
    own['scoring-api'] = await runService(scoring, serviceEnv('scoring-api'), ws.cwd);
    own['batch-scorer'] = await runService(batch, serviceEnv('batch-scorer'), ws.cwd);
    // A service with the L1 tier on: its L1 hits reach the fleet view too.
    const hot: ServiceStep[] = [
      { op: 'l1-ready' },
      { op: 'pred-write', customer: 'HOT1', model: 'credit' },
      { op: 'l1-ready' },
      ...Array.from({ length: 5 }, () => ({ op: 'pred-read' as const, customer: 'HOT1', model: 'credit' })),
    ];
    own['hot-api'] = await runService(hot, { ...serviceEnv('hot-api'), CACHE_L1_MAX_MB: '16' }, ws.cwd);
  }, 60_000);

  it("the dashboard shows each one's hit rate per kind, as its own processStats() reports it", async () => {
    expect(own['scoring-api']!.byKind.prediction).toMatchObject({ hits: 6, misses: 3, writes: 6 });
    expect(own['batch-scorer']!.byKind.feature).toMatchObject({ hits: 2, misses: 1, writes: 1 });
    const page = await open(dashboard.url);
    const rowsOf = () =>
      page.locator('#fleet-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent ?? '')));
    await expect.poll(async () => (await rowsOf()).map((r) => r[0]), { timeout: 30_000 }).toEqual(expect.arrayContaining(['scoring-api', 'batch-scorer', 'hot-api']));
    const rows = await rowsOf();
    for (const [service, stats] of Object.entries(own)) {
      for (const [kind, k] of Object.entries(stats.byKind)) {
        if (k.hits + k.misses === 0) continue;
        const row = rows.find((r) => r[0] === service && r[2] === kind);
        expect(row, `${service} ${kind}`).toBeDefined();
        expect(row!.slice(1, 7), `${service} ${kind}`).toEqual(['1', kind, pct(k.hits, k.misses), String(k.hits), String(k.misses), String(k.writes)]);
      }
    }
    expect(rows.find((r) => r[0] === 'scoring-api' && r[2] === 'prediction')![3]).toBe('66.67%');
    expect(rows.find((r) => r[0] === 'batch-scorer' && r[2] === 'prediction')![3]).toBe('50.00%');
    expect(rows.find((r) => r[0] === 'scoring-api' && r[2] === 'feature')![3]).toBe('66.67%');
    // The model the batch service cached shows among the models.
    await expect.poll(() => page.locator('#models td').allTextContents(), { timeout: 20_000 }).toContain('credit_risk');
  }, 60_000);

  it('finrisk-cache stats shows the same figures', async () => {
    const stats = JSON.parse((await cli(['stats', '--json'])).stdout) as { fleet: { service: string; byKind: Record<string, { hits: number; misses: number; hitRate: number }> }[] };
    for (const [service, mine] of Object.entries(own)) {
      const fleet = stats.fleet.find((s) => s.service === service)!;
      for (const [kind, k] of Object.entries(mine.byKind)) {
        expect(fleet.byKind[kind], `${service} ${kind}`).toMatchObject({ hits: k.hits, misses: k.misses, hitRate: k.hits + k.misses ? k.hits / (k.hits + k.misses) : 0 });
      }
    }
    // The L1 service: 1 read filled L1, 4 were answered from it, and the fleet says so.
    expect(own['hot-api']!.byKind.prediction).toMatchObject({ hits: 5, misses: 0, l1Hits: 4, l1Misses: 1 });
    const hotFleet = (stats.fleet.find((s) => s.service === 'hot-api') as unknown as { byKind: Record<string, { l1Hits: number; l1Misses: number; l1Bytes: number }> }).byKind.prediction!;
    expect(hotFleet).toMatchObject({ l1Hits: 4, l1Misses: 1 });
    expect(hotFleet.l1Bytes).toBeGreaterThan(0);
    const human = (await cli(['stats'])).stdout;
    expect(human).toMatch(/^hot-api\s+1\s+prediction\s+100\.00%\s+5\s+0\s+1\s+80\.00% \(\d+(\.\d+)?(B|KB)\)$/m);
    expect(human).toMatch(/^scoring-api\s+1\s+prediction\s+66\.67%\s+6\s+3\s+6\s+-$/m);
    expect(human).toMatch(/^batch-scorer\s+1\s+prediction\s+50\.00%\s+4\s+4\s+4\s+-$/m);
  });
});

describe('--allow-writes', () => {
  let writable: DashboardProcess;
  beforeAll(async () => {
    await cli(['cache-pred', 'CUST002', 'credit', '{"risk_score": 0.3}']);
    await cli(['cache-feat', 'CUST002', '{"age": 29}']);
    await cli(['cache-df', 'to_clear', 'data/customers.csv']);
    writable = await startDashboardProcess(await args('--allow-writes'), { cwd: ws.cwd, env: env() });
  }, 60_000);
  afterAll(async () => {
    if (writable) expect(await writable.stop()).toBe(0);
  });

  /** Opens the confirmation with `button`, checks that only the exact name enables Clear, and clears. */
  async function typedClear(page: Page, button: string, name: string) {
    await page.getByRole('button', { name: button }).first().click();
    const dialog = page.locator('#confirm');
    await dialog.waitFor({ state: 'visible' });
    expect(await page.locator('#confirm-label').textContent()).toBe(`Type ${name} to confirm:`);
    const ok = page.locator('#confirm-ok');
    expect(await ok.isDisabled()).toBe(true);
    await page.locator('#confirm-input').fill(name.slice(0, -1));
    expect(await ok.isDisabled()).toBe(true);
    await page.locator('#confirm-input').fill(`${name} `);
    expect(await ok.isDisabled()).toBe(true);
    await page.locator('#confirm-input').fill(name);
    expect(await ok.isEnabled()).toBe(true);
    await ok.click();
    await dialog.waitFor({ state: 'hidden' });
  }

  it("clears a customer's predictions and features, each after typing the customer's id", async () => {
    const page = await open(`${writable.base}/#customers`);
    expect(await page.locator('#mode').textContent()).toBe('clears allowed');
    await page.locator('#customer-id').fill('CUST002');
    await page.locator('#customer-id').press('Enter');
    await page.locator('#customer-entries').waitFor({ timeout: 20_000 });
    // Cancel deletes nothing.
    await page.getByRole('button', { name: 'Clear predictions…' }).click();
    await page.locator('#confirm-input').fill('CUST002');
    await page.locator('#confirm-cancel').click();
    expect(server.cli('EXISTS', `${prefix}:prediction:CUST002:credit`)).toBe('1');

    await typedClear(page, 'Clear predictions…', 'CUST002');
    await expect.poll(() => page.locator('#clear-result').textContent()).toBe('Deleted 1 key (predictions of CUST002).');
    expect(server.cli('EXISTS', `${prefix}:prediction:CUST002:credit`)).toBe('0');
    await typedClear(page, 'Clear features…', 'CUST002');
    await expect.poll(() => page.locator('#clear-result').textContent()).toBe('Deleted 1 key (features of CUST002).');
    expect(server.cli('EXISTS', `${prefix}:feature:CUST002`)).toBe('0');
    expect(server.cli('EXISTS', `${prefix}:prediction:CUST001:credit`)).toBe('1');
  }, 60_000);

  it("clears a frame after typing its name, and a model's artifacts after typing the model's", async () => {
    const page = await open(`${writable.base}/#frames`);
    await page.getByRole('button', { name: 'to_clear' }).click();
    await page.locator('#frame-rows').waitFor({ timeout: 20_000 });
    await typedClear(page, 'Clear data frame…', 'to_clear');
    await expect.poll(() => page.locator('#clear-result').textContent()).toBe('Deleted 1 key (data frame to_clear).');
    expect(server.cli('--scan', '--pattern', `${prefix}:dataframe:to_clear:*`)).toBe('');
    await expect.poll(() => page.locator('#frames-table').textContent()).not.toContain('to_clear');

    await runService([{ op: 'artifact-write', model: 'old_model', version: 'v1' }], env({ CACHE_STATS_PUBLISH: 'off' }), ws.cwd);
    await page.goto(`${writable.base}/#overview`);
    await page.getByRole('button', { name: 'Clear artifacts…' }).first().waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('#models td').allTextContents(), { timeout: 20_000 }).toContain('old_model');
    const row = page.locator('#models tr', { hasText: 'old_model' });
    await row.getByRole('button', { name: 'Clear artifacts…' }).click();
    await page.locator('#confirm-input').fill('old_model');
    await page.locator('#confirm-ok').click();
    await expect.poll(() => page.locator('#clear-result').textContent()).toBe('Deleted 1 key (artifacts of model old_model).');
    expect(server.cli('EXISTS', `${prefix}:model:old_model:v1`)).toBe('0');
  }, 60_000);
});

describe('bound off loopback', () => {
  let exposed: DashboardProcess;
  beforeAll(async () => {
    exposed = await startDashboardProcess(await args('--host', '0.0.0.0'), { cwd: ws.cwd, env: env() });
  }, 60_000);
  afterAll(async () => {
    if (exposed) expect(await exposed.stop()).toBe(0);
  });

  it('prints a URL with a generated token; without it the page, the API and the event stream answer 401', async () => {
    const url = new URL(exposed.url);
    const token = url.searchParams.get('token');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The machine's own address (not loopback) when it has one.
    expect(url.hostname).not.toBe('0.0.0.0');
    for (const path of ['/', '/api/state', '/api/events', '/assets/page.js']) {
      const res = await fetch(`${exposed.base}${path}`);
      expect(res.status, path).toBe(401);
      await res.text();
    }
    // (Chromium logs the 401 as a console error: this page is not among the checked ones.)
    const { page } = await browser.page();
    expect((await page.goto(`${exposed.base}/`))?.status()).toBe(401);
    expect(await page.locator('body').textContent()).toContain('this dashboard needs its token');
    await page.close();
  }, 60_000);

  it('with the token, the page loads (the token becomes a cookie) and its live updates arrive', async () => {
    const page = await open(exposed.url);
    expect(page.url()).toBe(`${exposed.base}/`);
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 20_000 }).toBe('healthy');
    await expect.poll(async () => (await canvasPixels(page, 'chart-memory', [37, 99, 235])).series, { timeout: 20_000 }).toBeGreaterThan(20);
  }, 60_000);
});
