// The CLI on an embedded store file that 0.1.0 wrote (better-sqlite3), now read through node:sqlite:
// what an operator who upgrades finds in ~/.cache/finrisk-cache/cache.db. The file and how it was
// written: packages/cache-core/test/fixtures/local-store/ (the store-level comparison is
// cache-core's local-store-compat.integration.test.ts; this one decodes predictions, features and a
// table through cache-ml and cache-frames as the commands do).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lines, runBinary, workspace } from './run-binary.js';

const fixture = fileURLToPath(new URL('../../../packages/cache-core/test/fixtures/local-store/v0.1-better-sqlite3.db', import.meta.url));

describe('finrisk-cache on an embedded store file written by 0.1.0', () => {
  it('reads its prediction, features and table, with nothing on stderr; an invalidated model is a miss', async () => {
    const ws = workspace('local-compat');
    const path = join(ws.cwd, 'cache.db');
    copyFileSync(fixture, path);
    const env = ws.env({ CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: path });
    const run = (...args: string[]) => runBinary(args, { cwd: ws.cwd, env });

    const pred = await run('get-pred', 'CUST001', 'credit');
    expect({ code: pred.code, stderr: pred.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(pred.stdout)).toEqual({ risk_score: 0.75, decision: 'approve', confidence: 0.92 });
    const feat = await run('get-feat', 'CUST001');
    expect(JSON.parse(feat.stdout)).toEqual({ age: 35, income: 85000, segments: ['retail'] });
    const df = await run('get-df', 'customers', '--json');
    expect(df.code, df.stderr).toBe(0);
    expect(JSON.parse(df.stdout)).toMatchObject({
      shape: { rows: 3, columns: 3 },
      preview: [
        { id: 'CUST001', income: 85000, active: true },
        { id: 'CUST002', income: 42000.5, active: false },
        { id: 'CUST003', income: null, active: true },
      ],
    });
    // invalidateModelPredictions('fraud') ran after CUST002's fraud prediction was written.
    expect((await run('get-pred', 'CUST002', 'fraud')).code).toBe(1);
    // Four CLI processes: a hang guard with room for a loaded machine, not a time to meet.
  }, 120_000);

  it('says in one line why the embedded store cannot open where node:sqlite is turned off, and what to do', async () => {
    const ws = workspace('local-off');
    const env = ws.env({ CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(ws.cwd, 'cache.db'), NODE_OPTIONS: '--no-experimental-sqlite' });
    const result = await runBinary(['get-feat', 'CUST001'], { cwd: ws.cwd, env });
    expect(result.code).toBe(3);
    expect(lines(result.stderr)).toEqual([
      `finrisk-cache: the local store needs Node.js's built-in node:sqlite, and Node.js ${process.version} has it turned off (--no-experimental-sqlite, on the command line or in NODE_OPTIONS): drop that flag; or set CACHE_BACKEND=memory or redis (E_DEPENDENCY_MISSING)`,
    ]);
  });
});
