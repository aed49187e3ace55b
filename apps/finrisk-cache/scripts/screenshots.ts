#!/usr/bin/env tsx
/**
 * Takes the README's screenshots of `finrisk-cache dashboard`: docs/dashboard-overview.png (the
 * overview after a minute of traffic from two services) and docs/dashboard-frame.png (a data
 * frame's preview). It starts its own redis-server (maxmemory 64 MB, allkeys-lru), seeds it with
 * the CLI, runs two SDK services (scoring-api, batch-scorer) for WORKLOAD_SECONDS, starts the built
 * dashboard and photographs the page in headless Chromium (/usr/bin/chromium).
 *
 * Usage: pnpm --filter @finrisk/finrisk-cache-app screenshots   (after pnpm build; WORKLOAD_SECONDS=60 by default)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '@finrisk/test-utils';
import { launchBrowser } from '../test/browser.js';
import { startDashboardProcess } from '../test/dashboard-process.js';
import { runBinary, workspace } from '../test/run-binary.js';
import { runService } from '../test/sdk-service.js';

const SECONDS = Number(process.env.WORKLOAD_SECONDS ?? 60);
const docs = fileURLToPath(new URL('../docs', import.meta.url));
mkdirSync(docs, { recursive: true });

const server = await startRedisServer({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
const ws = workspace('screenshots');
const env = (extra: Record<string, string> = {}) => ws.env({ REDIS_URL: server.url, NO_COLOR: '1', ...extra });
const cli = async (...args: string[]) => {
  const result = await runBinary(args, { cwd: ws.cwd, env: env() });
  if (result.code !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
};
try {
  await cli('cache-pred', 'CUST001', 'credit', '{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}');
  await cli('cache-pred', 'CUST001', 'fraud', '{"fraud_probability": 0.15, "risk_level": "low", "confidence": 0.88}');
  await cli('cache-feat', 'CUST001', '{"age": 35, "income": 75000, "credit_score": 720, "employment_years": 8}');
  await cli('cache-df', 'customer_data', 'data/customers.csv');
  await cli('cache-df', 'transaction_data', 'data/transactions.csv');
  const regions = ['north', 'south', 'east', 'west'];
  const rows = ['application_id,customer_id,amount,term_months,region,score,approved'];
  for (let i = 0; i < 240; i++) {
    rows.push(`A${String(i).padStart(4, '0')},CUST${String((i * 7) % 300).padStart(3, '0')},${5000 + ((i * 7919) % 45000)},${[12, 24, 36, 60][i % 4]},${regions[i % 4]},${Math.round(35 + ((i * 37) % 60)) / 100},${i % 5 !== 0}`);
  }
  writeFileSync(join(ws.cwd, 'loan_applications.csv'), `${rows.join('\n')}\n`);
  await cli('cache-df', 'loan_applications', 'loan_applications.csv');

  const dashboard = await startDashboardProcess(['--port', String(await freePort()), '--refresh', '1', '--fleet-interval', '2', '--keys-interval', '5'], { cwd: ws.cwd, env: env() });
  const serviceEnv = (name: string) => env({ CACHE_SERVICE_NAME: name, CACHE_STATS_INTERVAL: '2', CACHE_BACKEND: 'redis' });
  const services = Promise.all([
    runService([{ op: 'artifact-write', model: 'credit_risk', version: 'v7' }, { op: 'workload', seconds: SECONDS, model: 'credit', hitShare: 0.9 }], serviceEnv('scoring-api'), ws.cwd),
    runService([{ op: 'workload', seconds: SECONDS, model: 'fraud', hitShare: 0.6, pauseMs: 15 }], serviceEnv('batch-scorer'), ws.cwd),
  ]);
  const browser = await launchBrowser({ width: 1400, height: 1000 });
  try {
    const { page } = await browser.page();
    await page.goto(dashboard.url);
    await services;
    await page.waitForTimeout(3000);
    await page.screenshot({ path: join(docs, 'dashboard-overview.png'), fullPage: true });
    await page.goto(`${dashboard.base}/#frames`);
    await page.getByRole('button', { name: 'loan_applications' }).click();
    await page.locator('#frame-rows').waitFor();
    await page.screenshot({ path: join(docs, 'dashboard-frame.png'), clip: { x: 0, y: 0, width: 1400, height: 1000 } });
  } finally {
    await browser.close();
    await dashboard.stop();
  }
  console.log(`screenshots: ${join(docs, 'dashboard-overview.png')}, ${join(docs, 'dashboard-frame.png')}`);
} finally {
  await server.stop();
}
