import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardProcess } from './dashboard-process.js';
import { BUILT_BIN, runBinary, workspace } from './run-binary.js';

// The dashboard (its server, sampler, page and uPlot) is a chunk of its own that only the
// `dashboard` command loads: every other command starts as it did before it existed.

const LOGGER = fileURLToPath(new URL('./fixtures/log-modules.mjs', import.meta.url));
const ws = workspace('lazy');
let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

const loaded = (log: string) => readFileSync(log, 'utf8').split('\n').filter(Boolean);
const command = [process.execPath, '--import', LOGGER, BUILT_BIN];

describe('loading', () => {
  it('check, get-pred and --help do not load the dashboard', async () => {
    for (const [i, args] of [['check'], ['get-pred', 'C1', 'credit'], ['--help']].entries()) {
      const log = join(ws.cwd, `modules-${i}.log`);
      const result = await runBinary(args, { cwd: ws.cwd, env: ws.env({ REDIS_URL: server.url, FINRISK_MODULE_LOG: log }), command });
      expect(result.code, result.stderr).toBeLessThanOrEqual(1);
      const modules = loaded(log);
      // The log works: the CLI's own entry (cache-cli's bin) was loaded.
      expect(modules.some((url) => url.endsWith('/cache-cli/dist/bin.js'))).toBe(true);
      expect(modules.filter((url) => /run-dashboard|uplot/i.test(url)), args.join(' ')).toEqual([]);
      // Nor is its code inside what was loaded (its Content-Security-Policy, uPlot).
      for (const url of modules.filter((u) => u.includes('/cache-cli/dist/'))) {
        const code = readFileSync(fileURLToPath(url), 'utf8');
        expect(code, url).not.toContain("frame-ancestors 'none'");
        expect(code, url).not.toContain('leeoniya/uPlot');
      }
    }
  });

  it('dashboard loads it', async () => {
    const log = join(ws.cwd, 'modules-dashboard.log');
    const dashboard = await startDashboardProcess(['--port', String(await freePort())], { cwd: ws.cwd, env: ws.env({ REDIS_URL: server.url, FINRISK_MODULE_LOG: log }), command });
    expect(await dashboard.stop()).toBe(0);
    expect(loaded(log).filter((url) => /\/cache-cli\/dist\/run-dashboard-[A-Z0-9]+\.js$/.test(url))).toHaveLength(1);
  });
});
