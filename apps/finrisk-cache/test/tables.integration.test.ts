// The table commands as a user runs them (the built bin against a throwaway redis-server), on
// what issue 22 found: an Arrow export of a table whose columns are stored in different batch
// sizes, and what a cache-df killed mid-transfer leaves behind.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { singleNode, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBinary, workspace, type BinaryResult } from './run-binary.js';

describe('table commands (single node)', () => {
  let deployment: RedisDeployment;
  let prefix: string;
  const ws = workspace('tables');

  const env = (extra: Record<string, string> = {}) => ws.env({ ...deployment.env, CACHE_KEY_PREFIX: prefix, ...extra });
  const cli = (args: string[], extra: Record<string, string> = {}): Promise<BinaryResult> => runBinary(args, { cwd: ws.cwd, env: env(extra) });

  beforeAll(async () => {
    deployment = await singleNode.start();
    prefix = uniquePrefix('tables');
  });
  afterAll(async () => {
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
});
