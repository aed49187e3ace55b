import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { ExitCode } from './exit-codes.js';
import { runCli } from './run-cli.js';

// runCli in-process, with io a test controls: a terminal or not, NO_COLOR or not.

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let server: RedisServer;
let closedPort: number;
const cwd = mkdtempSync(join(tmpdir(), 'finrisk-cli-inproc-'));

// A 5 s command deadline: with the default 250 ms a command on a loaded machine can fail with E_TIMEOUT.
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL: server.url, CACHE_KEY_PREFIX: prefix, CACHE_LOCAL_PATH: join(cwd, 'cache.db'), CACHE_COMMAND_TIMEOUT_MS: '5000', ...extra };
}
let prefix = '';

async function run(argv: string[], options: { env?: Record<string, string>; isTTY?: boolean; signal?: AbortSignal } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Partial<CliIo> = {
    stdout: { write: (s: string) => (stdout += s), isTTY: options.isTTY ?? false },
    stderr: { write: (s: string) => (stderr += s), isTTY: options.isTTY ?? false },
    env: options.env ?? env(),
    cwd,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const ESC = '\u001b[';

beforeAll(async () => {
  server = await startRedisServer();
  closedPort = await freePort();
  prefix = uniquePrefix('cli');
});

afterAll(async () => {
  await server?.stop();
});

describe('terminal output', () => {
  it('colours stats on a terminal', async () => {
    const result = await run(['stats'], { isTTY: true });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(ESC);
    expect(result.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/^Hit Rate\s+/m);
  });

  it('never colours with NO_COLOR, even on a terminal', async () => {
    const result = await run(['stats'], { isTTY: true, env: env({ NO_COLOR: '1' }) });
    expect(result.stdout).not.toContain(ESC);
    expect(result.stdout).toMatch(/^Status\s+healthy$/m);
  });

  it('does not colour when piped', async () => {
    const result = await run(['config']);
    expect(result.stdout).not.toContain(ESC);
  });

  it('draws the --keys progress bar on a terminal only', async () => {
    expect((await run(['cache-feat', 'C1', '{"a": 1}'])).code).toBe(0);
    const tty = await run(['stats', '--keys'], { isTTY: true, env: env({ NO_COLOR: '1' }) });
    expect(tty.stderr).toContain('Counting keys');
    expect(tty.stdout).toMatch(/^feature\s+1\s+\d/m);
    const piped = await run(['stats', '--keys']);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toMatch(/^feature\s+1\s+\d/m);
  });
});

describe('monitor', () => {
  it('prints one line per check and stops after --count', async () => {
    const result = await run(['monitor', '--count', '3', '--interval', '0.01', '--min-hit-rate', '0']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^\S+Z\s+OK\s+Hit Rate .* Memory \d/);
  });

  it('marks an alert and exits 4 with --once', async () => {
    await run(['get-pred', 'NOBODY', 'credit']); // a miss: the hit rate is now below 100%
    const result = await run(['monitor', '--once', '--min-hit-rate', '1']);
    expect(result.code).toBe(ExitCode.ALERT);
    expect(result.stdout).toMatch(/ALERT .*!! low cache hit rate: \d+\.\d\d% < 100\.00%/);
    expect(result.stderr).toContain('ALERT');
  });

  it('alerts on memory above --max-memory-mb', async () => {
    const result = await run(['monitor', '--once', '--min-hit-rate', '0', '--max-memory-mb', '0.001', '--json']);
    expect(result.code).toBe(ExitCode.ALERT);
    const check = JSON.parse(result.stdout.trim().split('\n')[0]!) as { state: string; alerts: string[] };
    expect(check.state).toBe('alert');
    expect(check.alerts[0]).toMatch(/^high memory usage: .*MB > 0.001MB$/);
  });

  it('reports DOWN and exits 3 when Redis is unreachable', async () => {
    const result = await run(['monitor', '--once'], { env: env({ REDIS_URL: `redis://127.0.0.1:${closedPort}` }) });
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    expect(result.stdout).toMatch(/DOWN .*not reachable/);
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const running = run(['monitor', '--interval', '3600', '--min-hit-rate', '0'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('errors in-process', () => {
  it('prints one line and a JSON error document with --json', async () => {
    const result = await run(['--json', 'cache-feat', 'C1', '{"a":']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'E_BAD_INPUT', exitCode: 2 } });
  });

  it('prints the stack only with --debug', async () => {
    const plain = await run(['cache-feat', 'C1', '[]']);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await run(['cache-feat', 'C1', '[]', '--debug']);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
