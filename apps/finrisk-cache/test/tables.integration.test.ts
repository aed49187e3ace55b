// The table commands as a user runs them (the built bin against a throwaway redis-server), on
// what issue 22 found: an Arrow export of a table whose columns are stored in different batch
// sizes, and what a cache-df killed mid-transfer leaves behind.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { singleNode, startFaultProxy, uniquePrefix, type FaultProxy, type RedisDeployment } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_BIN, runBinary, workspace, type BinaryResult } from './run-binary.js';

describe('table commands (single node)', () => {
  let deployment: RedisDeployment;
  let proxy: FaultProxy;
  let prefix: string;
  const ws = workspace('tables');

  const env = (extra: Record<string, string> = {}) => ws.env({ ...deployment.env, CACHE_KEY_PREFIX: prefix, ...extra });
  const cli = (args: string[], extra: Record<string, string> = {}): Promise<BinaryResult> => runBinary(args, { cwd: ws.cwd, env: env(extra) });

  beforeAll(async () => {
    deployment = await singleNode.start();
    const [server] = deployment.masters();
    proxy = await startFaultProxy({ target: { host: server!.host, port: server!.port } });
    prefix = uniquePrefix('tables');
  });
  afterAll(async () => {
    await proxy?.close();
    await deployment?.stop();
  });

  it('get-df --output x.arrow of 100,000 rows with a wide text column (it exited 5: "Columns have inconsistent batch sizes")', { timeout: 120_000 }, async () => {
    const rows = ['id,amount,note'];
    for (let i = 0; i < 100_000; i++) rows.push(`${i},${(i * 7) % 1000}.5,${'n'.repeat(120 + (i % 50))}-${i}`);
    const csv = `${rows.join('\n')}\n`;
    writeFileSync(join(ws.cwd, 'wide.csv'), csv);
    expect((await cli(['cache-df', 'wide', 'wide.csv'])).code).toBe(0);
    const exported = await cli(['get-df', 'wide', '--output', 'wide.arrow']);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    // Cached again from the Arrow file and written out as CSV: the same bytes as the input.
    expect((await cli(['cache-df', 'wide_again', 'wide.arrow'])).code).toBe(0);
    expect((await cli(['get-df', 'wide_again', '--output', 'again.csv'])).code).toBe(0);
    expect(readFileSync(join(ws.cwd, 'again.csv'), 'utf8')).toBe(csv);
  });

  it('a cache-df killed mid-transfer leaves chunks that expire with the staging TTL (not the table\'s 2 hours), and clear-df (delete-df) removes them', { timeout: 180_000 }, async () => {
    const rows = ['id,note'];
    // About 24 MB: several 4 MiB chunks.
    for (let i = 0; i < 500_000; i++) rows.push(`${i},${'k'.repeat(40)}-${i}`);
    writeFileSync(join(ws.cwd, 'killed.csv'), `${rows.join('\n')}\n`);
    expect((await cli(['cache-df', 'killed', 'data/customers.csv'])).code).toBe(0);
    const chunkKeys = () => deployment.keys(`${prefix}:dataframe:killed:chunk:*`);
    const kept = new Set(chunkKeys());

    // Through a slow link (4 MiB/s: a chunk a second, well within its deadline), so that the
    // write is still going when the test kills it.
    proxy.setBandwidth(4 * 1024 * 1024);
    const child = spawn(process.execPath, [BUILT_BIN, 'cache-df', 'killed', 'killed.csv', '--no-progress'], {
      cwd: ws.cwd, env: env({ REDIS_URL: proxy.url }), stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    try {
      await expect.poll(() => chunkKeys().filter((k) => !kept.has(k)).length, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(2);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    proxy.heal();
    const orphans = chunkKeys().filter((k) => !kept.has(k));
    expect(orphans.length).toBeGreaterThanOrEqual(2);
    // The staging TTL with the CLI's settings here: 8 x (5 s + 250 ms/MiB x 20 MiB) = 80 s.
    for (const key of orphans) {
      const ttl = Number(deployment.cli('PTTL', key));
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(80_000);
    }
    // clear-df is delete-df under the name issue 22 used; hostile-input runs delete-df itself.
    const deleted = await cli(['clear-df', 'killed']);
    expect(deleted.code).toBe(0);
    expect(deployment.keys(`${prefix}:dataframe:killed:*`)).toEqual([]);
  });
});
