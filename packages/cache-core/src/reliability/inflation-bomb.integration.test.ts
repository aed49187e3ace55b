// A decompression bomb: a stored value with a valid envelope header (F1 52 01 03 01 00: format 1,
// bytes codec, deflate) and 1 GiB of zeros deflated to ~1 MB. Whoever can write to Redis could
// store it; every reader must answer a miss and an error event with bounded memory, not inflate
// it (before the bound, each read below peaked at 3.3 GB of RSS and took 7-14 s).
//
// Memory is measured in child processes that import the built packages (dist/) as a user's
// program would: getrusage's maxRSS of the whole process, preloaded by report-max-rss.mjs.
// Run `pnpm build` first (cache-core, cache-ml and the finrisk-cache binary).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDeflateRaw } from 'node:zlib';
import { startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Codec, Compression, DEFAULT_MAX_VALUE_BYTES } from '../codec.js';
import { KeySchema } from '../keys.js';

/**
 * The peak a read may reach (400 MiB): the default value limit (128 MiB, the most a reader
 * inflates) plus node's own ~70 MiB and room for a slow, busy machine. Measured after the fix:
 * 212-217 MB for each path below; before it, 3.3 GB.
 */
const MAX_RSS_BYTES = 400 * 1024 * 1024;
const BOMB_ZEROS = 1024 * 1024 * 1024;

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const PRELOAD = here('./report-max-rss.mjs');
const CHILD = here('./read-in-child.mjs');
const BUILT = [here('../../dist/index.js'), here('../../../cache-ml/dist/index.js'), here('../../../../apps/finrisk-cache/dist/finrisk-cache.js')];
const CLI = BUILT[2]!;

let server: RedisServer;
let raw: ReturnType<typeof createClient>;
let work: string;
const prefix = uniquePrefix();
const keys = new KeySchema(prefix);

/** The bomb: an envelope header and 1 GiB of zeros deflated as a stream (never 1 GiB in this process). */
async function bomb(): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [Buffer.from([0xf1, 0x52, 1, Codec.bytes, Compression.deflate, 0])];
  deflate.on('data', (chunk: Buffer) => parts.push(chunk));
  const ended = new Promise((resolve, reject) => deflate.on('end', resolve).on('error', reject));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < BOMB_ZEROS; written += zeros.byteLength) {
    if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  return Buffer.concat(parts);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  maxRssBytes: number;
}

/** Runs node with the peak-memory preload; never rejects on a non-zero exit. */
function runNode(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', PRELOAD, ...args], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, XDG_CACHE_HOME: join(work, '.xdg-cache'), NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const peak = /finrisk-test-max-rss-bytes=(\d+)/.exec(stderr);
      if (!peak) reject(new Error(`the child reported no peak memory (exit ${code}); stderr:\n${stderr}`));
      else resolve({ code, stdout, stderr: stderr.replace(peak[0], '').trim(), maxRssBytes: Number(peak[1]) });
    });
  });
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

beforeAll(async () => {
  for (const file of BUILT) expect(existsSync(file), `${file} is missing: run pnpm build first`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'finrisk-bomb-'));
  server = await startRedisServer();
  raw = createClient({ url: server.url });
  await raw.connect();
  const payload = await bomb();
  expect(payload.byteLength).toBeLessThan(2 * 1024 * 1024);
  for (const key of [keys.key('kv', 'bomb'), keys.key('prediction', 'CUST001', 'credit'), keys.key('model', 'm', 'v1')]) {
    await raw.set(key.key, payload);
  }
  // A small corrupt entry: the CLI must answer for the bomb as it answers for this one.
  await raw.set(keys.key('prediction', 'CUST002', 'credit').key, Buffer.concat([payload.subarray(0, 6), Buffer.from('not deflate')]));
}, 120_000);

afterAll(async () => {
  await raw?.close();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a 1 GiB decompression bomb is a miss with bounded memory', () => {
  it.each([
    ['cache.get', 'get'],
    ["cache-ml's getCachedPrediction", 'prediction'],
    ["cache-ml's getCachedModelArtifacts", 'artifacts'],
  ])('%s: a miss and an E_PAYLOAD_CORRUPT event naming the limit', async (_name, readPath) => {
    const run = await runNode([CHILD, readPath, server.url, prefix]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { value: unknown; errors: { code: string; message: string }[]; threw: string | null };
    expect(result.threw).toBeNull();
    expect(result.value).toBeNull();
    expect(result.errors).toContainEqual({
      code: 'E_PAYLOAD_CORRUPT',
      message: expect.stringContaining(`inflates to more than the limit of ${DEFAULT_MAX_VALUE_BYTES} bytes`) as string,
    });
    expect(run.maxRssBytes, `peak ${mb(run.maxRssBytes)}`).toBeLessThan(MAX_RSS_BYTES);
  }, 120_000);

  it.each([
    ['get-pred', (customer: string) => ['get-pred', customer, 'credit']],
    ['inspect', (customer: string) => ['inspect', customer]],
  ])('finrisk-cache %s answers as for any corrupt entry, with bounded memory', async (name, args) => {
    const env = { REDIS_URL: server.url, CACHE_BACKEND: 'redis', CACHE_KEY_PREFIX: prefix };
    const corrupt = await runNode([CLI, ...args('CUST002')], env);
    const bombed = await runNode([CLI, ...args('CUST001')], env);
    expect(bombed.code, bombed.stderr).toBe(corrupt.code);
    if (name === 'get-pred') expect(bombed.code).toBe(1); // a miss
    expect(bombed.maxRssBytes, `peak ${mb(bombed.maxRssBytes)}`).toBeLessThan(MAX_RSS_BYTES);
  }, 120_000);
});
