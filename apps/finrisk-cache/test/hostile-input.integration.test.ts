import { execFileSync } from 'node:child_process';
import {
  chmodSync, closeSync, linkSync, lstatSync, openSync, readFileSync, readdirSync, statSync, symlinkSync, truncateSync, writeFileSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createDeflateRaw, crc32 } from 'node:zlib';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_BIN, lines, runBinary, workspace, type BinaryResult } from './run-binary.js';
import { closedPipe, startBinary } from './child-process.js';

// The built finrisk-cache as a hostile or clumsy user meets it: files that are not what they say,
// pipes, values JSON cannot hold, stored entries forged by whoever can write to Redis, and
// readers that close the pipe early. Memory is measured in the child (getrusage), never here.

// The app depends on cache-cli only; the tests forge stored values with the workspace's cache-core.
type Core = typeof import('../../../packages/cache-core/dist/index.js');
const loadCore = () => import(new URL('../../../packages/cache-core/dist/index.js', import.meta.url).href) as Promise<Core>;

const GIB = 1024 * 1024 * 1024;

let server: RedisServer;
let prefix: string;
let closedPort: number;
const ws = workspace('hostile');
const env = (extra: Record<string, string> = {}) => ws.env({ REDIS_URL: server.url, CACHE_BACKEND: 'redis', CACHE_KEY_PREFIX: prefix, ...extra });
const cli = (args: string[], extra: Record<string, string> = {}): Promise<BinaryResult> => runBinary(args, { cwd: ws.cwd, env: env(extra) });
const at = (name: string) => join(ws.cwd, name);

/** A sparse file of `size` bytes whose first bytes are `head`. */
function sparse(name: string, head: Uint8Array, size: number): string {
  const fd = openSync(at(name), 'w');
  writeSync(fd, head);
  closeSync(fd);
  truncateSync(at(name), size);
  return name;
}

beforeAll(async () => {
  server = await startRedisServer();
  prefix = uniquePrefix('hostile');
  closedPort = await freePort();
});

afterAll(async () => {
  await server?.stop();
});

describe('cache-df: only regular files, or a pipe on purpose', () => {
  const FIFO_REFUSED = /is a FIFO \(a pipe\), not a regular file; to read a pipe, give it on standard input/;

  it('refuses a FIFO with no writer, at once, with exit 2 (it was exit 5, or a hang)', async () => {
    execFileSync('mkfifo', [at('waiting.csv')]);
    const result = await startBinary(['cache-df', 't', 'waiting.csv'], { cwd: ws.cwd, env: env(), limitMs: 20_000 }).done;
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(FIFO_REFUSED)]);
  });

  it('refuses /dev/stdin on a shell pipe and <(...), never with "Cannot find package"', { timeout: 120_000 }, async () => {
    const shell = (script: string) =>
      startBinary([], { cwd: ws.cwd, env: env(), limitMs: 20_000, command: ['bash', '-c', script, process.execPath, BUILT_BIN] }).done;
    for (const script of [
      `printf 'a,b\\n1,2\\n' | exec "$0" "$1" cache-df t /dev/stdin --format csv`,
      `exec "$0" "$1" cache-df t <(printf 'a,b\\n1,2\\n')`,
    ]) {
      const result = await shell(script);
      expect(result.timedOut, script).toBe(false);
      expect(result.code, script).toBe(2);
      expect(result.stderr, script).toMatch(FIFO_REFUSED);
      expect(result.stderr).not.toContain('Cannot find package');
    }
  });

  it('reads CSV and JSON from a real pipe with -, then serves them', { timeout: 120_000 }, async () => {
    const csv = startBinary(['cache-df', 'piped', '-'], { cwd: ws.cwd, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    csv.stdin!.end(readFileSync(at('data/customers.csv')));
    const stored = await csv.done;
    expect(stored.code, stored.stderr).toBe(0);
    expect(stored.stdout).toContain('Cached piped: 8 rows x 8 columns from standard input');
    expect((await cli(['get-df', 'piped'])).stdout).toMatch(/^CUST001\s+35\s+75000\s+720\s+/m);
    const json = startBinary(['cache-df', 'piped_json', '-', '--format', 'json'], { cwd: ws.cwd, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    json.stdin!.end('[{"id": "a", "score": 1.5}, {"id": "b", "score": null}]');
    expect((await json.done).code).toBe(0);
    expect((await cli(['info-df', 'piped_json'])).stdout).toMatch(/^Rows\s+2$/m);
  });

  it('stops reading a pipe that never ends on the first SIGTERM', { timeout: 90_000 }, async () => {
    const child = startBinary(['cache-df', 'endless', '-'], { cwd: ws.cwd, env: env(), stdio: ['pipe', 'pipe', 'pipe'], limitMs: 60_000 });
    try {
      // More than a pipe holds (64 KiB): 'drain' comes once the bin reads its standard input,
      // which it does only after installing its signal handlers.
      const drained = new Promise((resolve) => child.stdin!.once('drain', resolve));
      expect(child.stdin!.write(`a,b\n${'1,2\n'.repeat(256 * 1024)}`)).toBe(false);
      await drained; // and the pipe never ends
      process.kill(child.pid, 'SIGTERM');
      const result = await child.done;
      expect(result.timedOut).toBe(false);
      expect(result.signal).toBeNull();
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('interrupted before standard input ended; nothing was stored');
    } finally {
      child.stdin!.end();
    }
  });

  it('holds a pipe to --max-file-mb', async () => {
    const child = startBinary(['cache-df', 'too_big', '-', '--max-file-mb', '1'], { cwd: ws.cwd, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.on('error', () => undefined); // the bin may stop reading before the end
    child.stdin!.end(`a\n${'12345\n'.repeat(400_000)}`);
    const result = await child.done;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('standard input is larger than the limit of --max-file-mb 1');
  });
});

describe('cache-df: memory stays bounded on hostile files (peak RSS of the child)', () => {
  it('refuses a 1 GiB sparse .csv or .json over the size limit before reading it', { timeout: 120_000 }, async () => {
    for (const name of ['sparse.csv', 'sparse.json']) {
      sparse(name, Uint8Array.from([0xff]), GIB);
      const result = await startBinary(['cache-df', 't', name], { cwd: ws.cwd, env: env(), measure: true }).done;
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${name} (${at(name)}) is ${GIB} bytes, over the limit of --max-file-mb 256`);
      expect(result.maxRssMiB).toBeLessThan(300);
    }
  });

  it('stops at the first invalid UTF-8 byte of a 1 GiB file it is allowed to read (was 1.1 GB)', async () => {
    const result = await startBinary(['cache-df', 't', 'sparse.csv', '--max-file-mb', '2048'], { cwd: ws.cwd, env: env(), measure: true }).done;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is not valid UTF-8: byte 0xff at offset 0 (line 1)');
    expect(result.maxRssMiB).toBeLessThan(300);
  });

  it('refuses .arrow files with no Arrow schema: 4 KB of zeros or noise, and 1 GiB of zeros (were cached as empty tables)', { timeout: 120_000 }, async () => {
    writeFileSync(at('zeros.arrow'), new Uint8Array(4096));
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
    writeFileSync(at('noise.arrow'), noise);
    for (const name of ['zeros.arrow', 'noise.arrow']) {
      const result = await cli(['cache-df', 't_arrow', name]);
      expect(result.code, name).toBe(2);
      expect(result.stderr).toContain('is not an Arrow IPC file');
    }
    sparse('zeros-1g.arrow', new Uint8Array(0), GIB);
    const big = await startBinary(['cache-df', 't_arrow', 'zeros-1g.arrow', '--max-file-mb', '2048'], { cwd: ws.cwd, env: env(), measure: true }).done;
    expect(big.code).toBe(2);
    expect(big.stderr).toContain('does not begin with an Arrow schema');
    expect(big.maxRssMiB).toBeLessThan(300);
    expect((await cli(['get-df', 't_arrow'])).code).toBe(1);
  });
});

describe('forged data frames', () => {
  /** The table `name` cached by the CLI from customers.csv, and a way to forge its manifest and its first chunk. */
  async function forgeable(name: string) {
    expect((await cli(['cache-df', name, 'data/customers.csv'])).code).toBe(0);
    const core = await loadCore();
    const cache = core.createCache({ url: server.url, backend: 'redis', keyPrefix: prefix, envFile: false, commandTimeoutMs: 10_000 });
    const manifestKey = cache.keys.key('dataframe', name, 'manifest');
    const manifest = (await cache.get<Record<string, any>>(manifestKey))!;
    return {
      manifest,
      /** Stores `manifest` (edited) as the table's manifest. */
      setManifest: (m: Record<string, unknown>) => cache.set(manifestKey, m),
      /** Makes the table one column of one deflated chunk holding `stored`, with a matching size and CRC. */
      async setDeflatedChunk(stored: Uint8Array, rawBytes: number | undefined) {
        const column = manifest.columns[0];
        const chunk = { index: 0, rows: manifest.rows, bytes: stored.byteLength, checksum: `crc32:${crc32(stored).toString(16).padStart(8, '0')}`, ...(rawBytes === undefined ? {} : { rawBytes }) };
        await cache.set(cache.keys.key('dataframe', name, 'chunk', manifest.version, '0'), stored, { compress: false });
        await cache.set(manifestKey, { ...manifest, compression: 'deflate', bytes: stored.byteLength, columns: [{ ...column, bytes: stored.byteLength, chunks: [chunk] }] });
      },
      close: () => cache.close(),
    };
  }

  /** 1 GiB of zeros, deflated (about 1 MB), made a piece at a time. */
  function deflatedZeros(size: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const deflate = createDeflateRaw({ level: 1 });
      const parts: Buffer[] = [];
      deflate.on('data', (c: Buffer) => parts.push(c));
      deflate.on('end', () => resolve(Buffer.concat(parts)));
      deflate.on('error', reject);
      const zeros = Buffer.alloc(1024 * 1024);
      let left = size / zeros.length;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!deflate.write(zeros)) return void deflate.once('drain', pump);
        }
        deflate.end();
      };
      pump();
    });
  }

  it('a forged manifest is corrupt: its numbers are never printed', { timeout: 120_000 }, async () => {
    const forged = await forgeable('forged');
    try {
      for (const edit of [{ rows: -1 }, { rows: 1e300 }, { bytes: -5 }, { columns: [{ ...forged.manifest.columns[0], nullCount: Number.NaN }] }]) {
        await forged.setManifest({ ...forged.manifest, ...edit });
        const info = await cli(['info-df', 'forged']);
        expect(info.code).toBe(1);
        expect(info.stdout).toBe('');
        expect(lines(info.stderr)).toEqual([expect.stringContaining('data frame forged is corrupt (the manifest of table "forged"')]);
        expect(info.stderr).toContain('Delete it with `finrisk-cache delete-df forged`');
        const get = await cli(['get-df', 'forged', '--json']);
        expect(get.code).toBe(1);
        expect(JSON.parse(get.stdout)).toMatchObject({ found: false, corrupt: true, error: { code: 'E_PAYLOAD_CORRUPT', reason: 'MANIFEST_CORRUPT' } });
      }
      const listed = await cli(['list-df', '--json']);
      const data = JSON.parse(listed.stdout) as { dataFrames: { name: string }[]; corrupt: { name: string }[] };
      expect(data.dataFrames.map((d) => d.name)).not.toContain('forged');
      expect(data.corrupt.map((d) => d.name)).toContain('forged');
      expect((await cli(['list-df'])).stdout).not.toMatch(/-1|1e\+300|NaN|-5B/);
      const deleted = await cli(['delete-df', 'forged']);
      expect(deleted.code).toBe(0);
      expect((await cli(['info-df', 'forged'])).stderr).toContain('no data frame named forged is cached');
    } finally {
      await forged.close();
    }
  });

  it('a deflate bomb chunk with a matching CRC is a corrupt chunk, and get-df stays small (was 2.2 GB)', { timeout: 120_000 }, async () => {
    const bomb = await deflatedZeros(GIB);
    const forged = await forgeable('bomb');
    try {
      // A manifest from before rawBytes was recorded: bounded by maxValueBytes (128 MiB).
      await forged.setDeflatedChunk(bomb, undefined);
      const legacy = await startBinary(['get-df', 'bomb'], { cwd: ws.cwd, env: env(), measure: true }).done;
      expect(legacy.code).toBe(1);
      expect(legacy.stderr).toContain('data frame bomb is corrupt (chunk');
      expect(legacy.stderr).toContain('inflates to more than 134217728 bytes');
      expect(legacy.maxRssMiB).toBeLessThan(512);
      // A manifest that claims the bomb's real size: over maxValueBytes, refused before any chunk is read.
      await forged.setDeflatedChunk(bomb, GIB);
      const claimed = await startBinary(['get-df', 'bomb'], { cwd: ws.cwd, env: env(), measure: true }).done;
      expect(claimed.code).toBe(1);
      expect(claimed.stderr).toContain('rawBytes 1073741824 is not a size up to 134217728');
      expect(claimed.maxRssMiB).toBeLessThan(300);
      // A manifest that claims a small size: inflation stops there.
      await forged.setDeflatedChunk(bomb, 4096);
      const small = await startBinary(['get-df', 'bomb'], { cwd: ws.cwd, env: env(), measure: true }).done;
      expect(small.code).toBe(1);
      expect(small.stderr).toContain('inflates to more than 4096 bytes (the size its manifest records)');
      expect(small.maxRssMiB).toBeLessThan(300);
    } finally {
      await forged.close();
    }
  });
});

describe('corrupt predictions and features', () => {
  it('get-pred, get-feat and inspect say corrupt, and how to clear it', { timeout: 120_000 }, async () => {
    expect((await cli(['cache-pred', 'BROKEN', 'credit', '{"risk_score": 0.5}'])).code).toBe(0);
    expect((await cli(['cache-feat', 'BROKEN', '{"age": 40}'])).code).toBe(0);
    server.cli('SET', `${prefix}:prediction:BROKEN:credit`, 'garbage');
    server.cli('SET', `${prefix}:feature:BROKEN`, 'garbage');
    const pred = await cli(['get-pred', 'BROKEN', 'credit']);
    expect(pred.code).toBe(1);
    expect(lines(pred.stderr)).toEqual([expect.stringMatching(/^finrisk-cache: the cached credit prediction for BROKEN is corrupt \(.+\); .*`finrisk-cache clear-pred --customer BROKEN`/)]);
    const feat = await cli(['get-feat', 'BROKEN', '--json']);
    expect(feat.code).toBe(1);
    expect(JSON.parse(feat.stdout)).toMatchObject({ found: false, corrupt: true, error: { code: 'E_PAYLOAD_CORRUPT' } });
    expect(feat.stderr).toContain('`finrisk-cache clear-feat --customer BROKEN`');
    const inspect = await cli(['inspect', 'BROKEN']);
    expect(inspect.stdout).toMatch(/^prediction\s+credit\s+.*\s+corrupt\s+/m);
    expect(inspect.stdout).toMatch(/^feature\s+.*\s+corrupt\s+/m);
    expect(inspect.stdout).not.toContain('invalidated');
    expect((await cli(['clear-pred', '--customer', 'BROKEN'])).code).toBe(0);
    expect((await cli(['get-pred', 'BROKEN', 'credit'])).stderr).toContain('no cached credit prediction for BROKEN');
  });
});

describe('get-df --output onto an existing file', () => {
  it('refuses without --force and leaves the file alone', { timeout: 120_000 }, async () => {
    expect((await cli(['cache-df', 'out_df', 'data/customers.csv'])).code).toBe(0);
    writeFileSync(at('private.csv'), 'secret\n');
    chmodSync(at('private.csv'), 0o600);
    const result = await cli(['get-df', 'out_df', '--output', 'private.csv', '--json']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'E_FILE', exitCode: 2 } });
    expect(result.stderr).toContain(`private.csv (${at('private.csv')}) exists; pass --force to overwrite it`);
    expect(readFileSync(at('private.csv'), 'utf8')).toBe('secret\n');
  });

  it('with --force keeps the mode, the hard links and the symlink (a 0600 file used to become 0644)', { timeout: 120_000 }, async () => {
    linkSync(at('private.csv'), at('private-link.csv'));
    symlinkSync('private.csv', at('private-symlink.csv'));
    const inode = statSync(at('private.csv')).ino;
    const result = await cli(['get-df', 'out_df', '--output', 'private-symlink.csv', '--force']);
    expect(result.code, result.stderr).toBe(0);
    const customers = readFileSync(at('data/customers.csv'), 'utf8');
    expect(lstatSync(at('private-symlink.csv')).isSymbolicLink()).toBe(true);
    expect(statSync(at('private.csv')).mode & 0o777).toBe(0o600);
    expect(statSync(at('private.csv')).ino).toBe(inode);
    expect(readFileSync(at('private.csv'), 'utf8')).toBe(customers);
    expect(readFileSync(at('private-link.csv'), 'utf8')).toBe(customers);
  });

  it('names the user\'s path with E_FILE when it cannot write, and leaves no temporary file', async () => {
    const result = await cli(['get-df', 'out_df', '--output', 'missing-folder/out.csv', '--json']);
    expect(result.code).toBe(2);
    const error = (JSON.parse(result.stdout) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('E_FILE');
    expect(error.message).toContain(`cannot write ${at('missing-folder/out.csv')}`);
    expect(error.message).not.toMatch(/\.tmp/);
    expect(readdirSync(ws.cwd).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('values JSON cannot hold, and JSON larger than an argument', () => {
  it('refuses 1e400 naming its path, for cache-pred and cache-feat (it was stored as Infinity and read back as null)', { timeout: 120_000 }, async () => {
    const pred = await cli(['cache-pred', 'J2', 'credit', '{"x": 1e400}']);
    expect(pred.code).toBe(2);
    expect(lines(pred.stderr)).toEqual([expect.stringContaining('has a number too large for a 64-bit float at $.x')]);
    expect((await cli(['get-pred', 'J2', 'credit'])).code).toBe(1);
    const feat = await cli(['cache-feat', 'J2', '{"scores": [1, -1e999]}']);
    expect(feat.code).toBe(2);
    expect(feat.stderr).toContain('at $.scores[1]');
  });

  it('takes 50 MB of JSON from a file and from standard input', { timeout: 120_000 }, async () => {
    const features = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`f${i}`, 'x'.repeat(1000)]));
    const text = JSON.stringify(features);
    expect(text.length).toBeGreaterThan(50_000_000);
    writeFileSync(at('features.json'), text);
    const fromFile = await cli(['cache-feat', 'BIG', '@features.json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toContain('Cached 50000 features for BIG');
    const piped = startBinary(['cache-pred', 'BIG', 'credit', '-'], { cwd: ws.cwd, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    piped.stdin!.end(text);
    const fromStdin = await piped.done;
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    const read = await cli(['get-pred', 'BIG', 'credit', '--json']);
    expect((JSON.parse(read.stdout) as { prediction: Record<string, string> }).prediction.f49999).toBe('x'.repeat(1000));
  });
});

describe('a reader that closes the pipe early does not change the exit status', () => {
  const unreachable = () => env({ REDIS_URL: `redis://127.0.0.1:${closedPort}/0`, CACHE_CONNECT_TIMEOUT_MS: '300' });

  it('check exits 3 with stderr closed, and with both closed (stderr closed made it 1)', { timeout: 120_000 }, async () => {
    for (const [name, stdio] of [
      ['stderr', (fd: number) => ['ignore', 'ignore', fd]],
      ['both', (fd: number) => ['ignore', fd, fd]],
      ['stdout', (fd: number) => ['ignore', fd, 'ignore']],
    ] as const) {
      const fd = closedPipe(ws.cwd, `closed-${name}`);
      const child = startBinary(['--debug', 'check'], { cwd: ws.cwd, env: unreachable(), stdio: stdio(fd) as never, limitMs: 30_000 });
      closeSync(fd);
      const result = await child.done;
      expect(result.timedOut, name).toBe(false);
      expect(result.code, name).toBe(3);
    }
  });

  it('monitor stops when nobody reads its output, with its own status', async () => {
    const fd = closedPipe(ws.cwd, 'closed-monitor');
    const child = startBinary(['monitor', '--interval', '300', '--min-hit-rate', '0'], { cwd: ws.cwd, env: env(), stdio: ['ignore', fd, 'pipe'], limitMs: 30_000 });
    closeSync(fd);
    const result = await child.done;
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(0);
  });
});

describe('table output in terminal columns', () => {
  it('get-df lines up CJK cells', { timeout: 120_000 }, async () => {
    writeFileSync(at('cities.csv'), 'id,city,decision\nC1,東京都,approve\nC2,Paris,review\nC3,서울,ok\n');
    expect((await cli(['cache-df', 'cities', 'cities.csv'])).code).toBe(0);
    const rows = lines((await cli(['get-df', 'cities'])).stdout).filter((l) => /^(id|C\d)\s+\S+\s+\S+$/.test(l));
    expect(rows).toHaveLength(4);
    // East Asian wide characters take two columns: count them twice to find where `decision` starts.
    const column = (line: string) => [...line.slice(0, line.search(/(approve|review|ok|decision)$/))].reduce((n, ch) => n + (/[\u3000-\u9fff\uac00-\ud7a3]/.test(ch) ? 2 : 1), 0);
    expect(new Set(rows.map(column)).size).toBe(1);
  });
});
