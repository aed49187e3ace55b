import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../cli-io.js';
import { runCli } from '../run-cli.js';

// update-feat and get-feat --only, in-process on the embedded store (a real SQLite file).

const cwd = mkdtempSync(join(tmpdir(), 'finrisk-cli-feat-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Partial<CliIo> = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([]),
    env: { CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(cwd, 'cache.db') },
    cwd,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

describe('update-feat and get-feat --only', () => {
  it("updates some features, keeps the others, and reads a subset with each feature's write time", async () => {
    expect((await run(['cache-feat', 'CUST001', '{"age": 35, "income": 75000, "txn_count_1h": 1}'])).code).toBe(0);
    const updated = await run(['update-feat', 'CUST001', '{"txn_count_1h": 4}']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain('Updated 1 feature of CUST001 (txn_count_1h');
    const all = await run(['get-feat', 'CUST001']);
    expect(JSON.parse(all.stdout)).toEqual({ age: 35, income: 75000, txn_count_1h: 4 });
    const some = await run(['get-feat', 'CUST001', '--only', 'age,txn_count_1h', '--json']);
    const parsed = JSON.parse(some.stdout) as { features: object; featureCachedAt: Record<string, string> };
    expect(parsed.features).toEqual({ age: 35, txn_count_1h: 4 });
    expect(Object.keys(parsed.featureCachedAt).sort()).toEqual(['age', 'txn_count_1h']);
  });

  it('exits 1 when none of the features asked for is cached, and refuses an empty name', async () => {
    await run(['update-feat', 'CUST002', '{"a": 1}']);
    const none = await run(['get-feat', 'CUST002', '--only', 'b']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('none of b is cached for CUST002');
    expect((await run(['get-feat', 'CUST002', '--only', 'a,,b'])).code).not.toBe(0);
  });

  it('names the new command and option in the help', async () => {
    const help = await run(['--help']);
    expect(help.stdout).toContain('update-feat');
    const getHelp = await run(['help', 'get-feat']);
    expect(getHelp.stdout).toContain('--only <NAMES>');
  });
});
