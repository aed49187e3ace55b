import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliInputStream, CliIo } from './cli-io.js';
import { runCli } from './run-cli.js';

// runCli in-process on the embedded store (a real SQLite file in a temporary folder), with
// standard input a test controls.

const cwd = mkdtempSync(join(tmpdir(), 'finrisk-cli-input-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], options: { stdin?: CliInputStream; env?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Partial<CliIo> = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: options.stdin ?? Readable.from([]),
    env: { CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(cwd, 'cache.db'), ...options.env },
    cwd,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const pieces = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));
const errorOf = (result: Run) => (JSON.parse(result.stdout) as { error: { code: string; message: string } }).error;

describe('cache-pred and cache-feat: JSON from a file (@FILE) or standard input (-)', () => {
  it('reads the prediction from standard input, in pieces', async () => {
    const stored = await run(['cache-pred', 'IN1', 'credit', '-'], { stdin: pieces('{"risk_score": 0.', '5, "decision": "ok"}') });
    expect(stored.code, stored.stderr).toBe(0);
    const read = await run(['get-pred', 'IN1', 'credit']);
    expect(JSON.parse(read.stdout)).toEqual({ risk_score: 0.5, decision: 'ok' });
  });

  it('reads the features from a file, larger than one command-line argument can be (128 KiB)', async () => {
    const features = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`feature_${i}`, i / 7]));
    const text = JSON.stringify(features);
    expect(text.length).toBeGreaterThan(256 * 1024);
    writeFileSync(join(cwd, 'features.json'), text);
    const stored = await run(['cache-feat', 'IN2', '@features.json']);
    expect(stored.code, stored.stderr).toBe(0);
    expect(stored.stdout).toContain('Cached 20000 features for IN2');
    expect(JSON.parse((await run(['get-feat', 'IN2'])).stdout)).toEqual(features);
  });

  it('names the file in JSON errors, without the advice to quote an argument', async () => {
    writeFileSync(join(cwd, 'bad.json'), '{"a": 1,\n "b": }');
    const result = await run(['cache-pred', 'IN3', 'credit', '@bad.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`JSON (the prediction) in bad.json (${join(cwd, 'bad.json')}) is not valid JSON`);
    expect(result.stderr).toContain('line 2, column 7');
    expect(result.stderr).not.toContain('single quotes');
  });

  it('refuses a missing file, a FIFO and a directory with E_FILE and exit 2, at once', async () => {
    const missing = await run(['cache-pred', 'IN4', 'credit', '@nope.json', '--json']);
    expect(missing.code).toBe(2);
    expect(errorOf(missing)).toEqual({ code: 'E_FILE', message: `file not found: nope.json (${join(cwd, 'nope.json')})`, exitCode: 2 });
    execFileSync('mkfifo', [join(cwd, 'pipe.json')]);
    const fifo = await run(['cache-feat', 'IN4', '@pipe.json', '--json']);
    expect(fifo.code).toBe(2);
    expect(errorOf(fifo).code).toBe('E_FILE');
    expect(errorOf(fifo).message).toContain('is a FIFO (a pipe), not a regular file');
    expect((await run(['cache-feat', 'IN4', `@${cwd}`])).stderr).toContain('is a directory, not a regular file');
    expect((await run(['cache-feat', 'IN4', '@'])).code).toBe(2);
  });

  it('reads no more than CACHE_MAX_VALUE_BYTES', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(4000) });
    const fromStdin = await run(['cache-feat', 'IN5', '-'], { stdin: pieces(big.slice(0, 2000), big.slice(2000)), env: { CACHE_MAX_VALUE_BYTES: '1024' } });
    expect(fromStdin.code).toBe(2);
    expect(fromStdin.stderr).toContain('standard input is larger than the limit of 1024 bytes');
    writeFileSync(join(cwd, 'big.json'), big);
    const fromFile = await run(['cache-feat', 'IN5', '@big.json'], { env: { CACHE_MAX_VALUE_BYTES: '1024' } });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain(`big.json (${join(cwd, 'big.json')}) is ${big.length} bytes, over the limit of 1024 bytes`);
  });

  it('refuses 1e400 from a file too, naming the path', async () => {
    writeFileSync(join(cwd, 'inf.json'), '{"scores": [0.1, 1e400]}');
    const result = await run(['cache-pred', 'IN6', 'credit', '@inf.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('at $.scores[1]');
    expect((await run(['cache-feat', 'IN6', '{"x": -1e400}'])).stderr).toContain('at $.x');
  });

  it('refuses - when standard input is a terminal, instead of waiting for typing', async () => {
    const tty = Object.assign(Readable.from([]), { isTTY: true });
    const result = await run(['cache-pred', 'IN7', 'credit', '-'], { stdin: tty });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('standard input is a terminal');
  });

  it('stops reading a standard input that never ends when the signal aborts (SIGTERM in the bin)', async () => {
    const endless = new PassThrough();
    endless.write('{"a": ');
    const controller = new AbortController();
    const pending = run(['cache-pred', 'IN8', 'credit', '-'], { stdin: endless, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const result = await pending;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('interrupted before standard input ended; nothing was stored');
    expect(endless.destroyed).toBe(true);
  });
});

describe('cache-df from standard input', () => {
  it('reads CSV by default and JSON with --format, within --max-file-mb', async () => {
    const csv = await run(['cache-df', 'piped', '-'], { stdin: pieces('id,city\n1,東', '京\n2,Paris\n') });
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toContain('Cached piped: 2 rows x 2 columns from standard input');
    const json = await run(['cache-df', 'piped_json', '-', '--format', 'json'], { stdin: pieces('[{"a": 1}, {"a": 2}]') });
    expect(json.code, json.stderr).toBe(0);
    const over = await run(['cache-df', 'piped_big', '-', '--max-file-mb', '1'], { stdin: pieces('a\n', `${'1\n'.repeat(600_000)}`) });
    expect(over.code).toBe(2);
    expect(over.stderr).toContain('standard input is larger than the limit of --max-file-mb 1');
    expect((await run(['cache-df', 'x', '-', '--format', 'xlsx'])).code).toBe(2);
  });
});
