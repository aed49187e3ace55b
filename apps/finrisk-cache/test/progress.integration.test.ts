import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFaultProxy, startRedisServer, uniquePrefix, type FaultProxy, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_BIN, workspace } from './run-binary.js';

// The progress line of cache-df and get-df as a person at a terminal sees it: the built bin runs
// under a pseudo-terminal (util-linux `script`), and what the terminal received is read back. Redis
// is behind a fault proxy that delays every packet by LATENCY_MS each way, so that a transfer takes
// at least one round trip (2 x LATENCY_MS) after its progress starts, longer than the line's 300 ms
// delay on any machine: the line is certainly drawn when it is meant to be, and its absence means
// something. Nothing here measures time.

const LATENCY_MS = 200;
const ROWS = 100_000;
const TABLE = 'progress_t';
/** The pty's width: wide enough for every part of the line. */
const COLUMNS = 200;
const ERASE = '\r\u001b[K';

let server: RedisServer;
let proxy: FaultProxy;
const ws = workspace('progress');
let prefix: string;

interface TerminalResult {
  code: number | null;
  /** Everything the terminal received, stdout and stderr together, escape codes and all. */
  output: string;
}

/** `text` as one word for sh. */
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `sh` under a pseudo-terminal of COLUMNS columns, where `$CLI` is the built bin; resolves
 * with what the terminal received and the exit status of the command (script -e). Killed after
 * 60 s, so a hang fails the test instead of stalling it.
 */
function underTerminal(sh: string, extraEnv: Record<string, string> = {}): Promise<TerminalResult> {
  const cli = `${quote(process.execPath)} ${quote(BUILT_BIN)}`;
  const command = `stty cols ${COLUMNS} rows 40; CLI=${quote(cli)}; ${sh}`;
  const env = ws.env({ REDIS_URL: proxy.url, CACHE_BACKEND: 'redis', CACHE_KEY_PREFIX: prefix, TERM: 'xterm-256color', SHELL: '/bin/sh', ...extraEnv });
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: ws.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output + stderr });
    });
  });
}

/** The command run on the terminal as it is: stdout and stderr both the pty. */
const onTerminal = (args: string, extraEnv?: Record<string, string>) => underTerminal(`eval "$CLI ${args}"`, extraEnv);

/**
 * The command with stdout on the pty and stderr into a pipe (to cat, which copies it to the pty):
 * only stderr is not a terminal. The exit status comes back as an `exit N` line.
 */
const stderrPiped = (args: string) => underTerminal(`{ eval "$CLI ${args}" 2>&1 >/dev/tty; echo "exit $?" >/dev/tty; } | cat`);

/** The progress lines drawn (each `\r...\e[K`), without the erasures. */
function drawnLines(output: string): string[] {
  return [...output.matchAll(/\r([^\r\n]+?)\u001b\[K/g)].map((m) => m[1]!);
}

/** A full progress line of `label` at 100%: bar, percent, rows, MiB done/total, both rates, elapsed. */
function finalLine(label: string): RegExp {
  const rows = `${ROWS / 1000}k`;
  return new RegExp(
    `^${label} {2}\\[#{30}\\] {2}100% {2}${rows}/${rows} rows {2}(\\d+\\.\\d)/\\1 MiB {2}\\d+\\.\\d MiB/s {2}\\d[\\d.,]*[kMG]? rows/s {2}\\d+\\.\\ds$`,
  );
}

/** No trace of a progress line: no erase-line code, no rates, no bar. */
function expectNoProgress(output: string): void {
  expect(output).not.toContain('\u001b[K');
  expect(output).not.toMatch(/MiB\/s|rows\/s|\[#+-*\]/);
}

beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  proxy.setLatency(LATENCY_MS);
  prefix = uniquePrefix('progress');
  const lines = ['id,amount,score,segment'];
  for (let i = 0; i < ROWS; i++) lines.push(`${i},${(i * 37) % 100_000},${i % 851},${i % 7}`);
  writeFileSync(join(ws.cwd, 'table.csv'), `${lines.join('\n')}\n`);
});

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

describe('progress of cache-df and get-df on a terminal', () => {
  it('cache-df draws the line on stderr, then erases it before its result', { timeout: 60_000 }, async () => {
    const result = await onTerminal(`cache-df ${TABLE} table.csv`);
    expect(result.code, result.output).toBe(0);
    const drawn = drawnLines(result.output);
    expect(drawn.some((line) => finalLine(`Caching ${TABLE}`).test(line)), drawn.join('\n')).toBe(true);
    // Erased, and the result is on a line of its own.
    expect(result.output).toMatch(new RegExp(`100%[^\\r\\n]*\\u001b\\[K${ERASE.replace('[', '\\[')}Cached ${TABLE}: 100,000 rows x 4 columns from table\\.csv`));
  });

  it('get-df draws the line while it reads, for a preview and for --output', { timeout: 60_000 }, async () => {
    const preview = await onTerminal(`get-df ${TABLE} --rows 2`);
    expect(preview.code, preview.output).toBe(0);
    expect(drawnLines(preview.output).some((line) => finalLine(`Reading ${TABLE}`).test(line)), preview.output).toBe(true);
    expect(preview.output).toMatch(new RegExp(`${ERASE.replace('[', '\\[')}\\S*${TABLE}\\S*: 100,000 rows x 4 columns`));

    const exported = await onTerminal(`get-df ${TABLE} --output export.csv`);
    expect(exported.code, exported.output).toBe(0);
    expect(drawnLines(exported.output).some((line) => finalLine(`Reading ${TABLE}`).test(line)), exported.output).toBe(true);
    expect(exported.output).toContain(`${ERASE}Wrote ${TABLE} (100,000 rows x 4 columns) to export.csv`);
  });

  it('draws nothing when stderr is a pipe, though stdout is the terminal', { timeout: 60_000 }, async () => {
    const cached = await stderrPiped(`cache-df ${TABLE} table.csv`);
    expect(cached.output).toContain(`Cached ${TABLE}: 100,000 rows x 4 columns`);
    expect(cached.output).toMatch(/exit 0/);
    expectNoProgress(cached.output);

    const read = await stderrPiped(`get-df ${TABLE} --rows 2`);
    expect(read.output).toContain('100,000 rows x 4 columns');
    expect(read.output).toMatch(/exit 0/);
    expectNoProgress(read.output);
  });

  it('draws nothing with --no-progress, with --json, or on TERM=dumb', { timeout: 90_000 }, async () => {
    const runs = [
      await onTerminal(`cache-df ${TABLE} table.csv --no-progress`),
      await onTerminal(`get-df ${TABLE} --rows 2 --no-progress`),
      await onTerminal(`--json cache-df ${TABLE} table.csv`),
      await onTerminal(`get-df ${TABLE} --rows 2`, { TERM: 'dumb' }),
    ];
    for (const run of runs) {
      expect(run.code, run.output).toBe(0);
      expect(run.output).toMatch(/100,?000/);
      expectNoProgress(run.output);
    }
  });
});
