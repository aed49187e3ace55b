import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameError, type FrameErrorReason } from './errors.js';
import { readTableFile, readTableStream } from './table-files.js';

const dir = mkdtempSync(join(tmpdir(), 'frames-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
/** A sparse file of `size` bytes whose first bytes are `head` (it takes no disk space). */
const sparse = (name: string, head: Uint8Array, size: number) => {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  closeSync(fd);
  truncateSync(path, size);
  return path;
};
const caught = async (p: Promise<unknown>): Promise<FrameError> =>
  p.then(() => { throw new Error('expected a FrameError'); }, (e: unknown) => e as FrameError);
const expectReason = async (p: Promise<unknown>, reason: FrameErrorReason) => {
  const error = await caught(p);
  expect(FrameError.hasReason(error, reason), String(error)).toBe(true);
  expect(error.code).toBe(reason === 'COLUMN_TYPE' ? 'E_INVALID_VALUE' : 'E_FILE');
  return error;
};
/** Deterministic bytes that are not Arrow (xorshift). */
function noise(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
const GIB = 1024 * 1024 * 1024;

describe('readTableFile: only regular files, within a size', () => {
  it('refuses a FIFO at once, with or without a writer (it never blocks on open)', async () => {
    const fifo = join(dir, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    const error = await expectReason(readTableFile(fifo), 'FILE_NOT_REGULAR');
    expect(error.message).toContain(`${fifo} is a FIFO (a pipe), not a regular file`);
    expect(error.message).toContain('readTableStream');
  });

  it('refuses a character device and a directory', async () => {
    expect((await expectReason(readTableFile('/dev/zero', { format: 'csv' }), 'FILE_NOT_REGULAR')).message).toContain('a character device');
    mkdirSync(join(dir, 'folder.csv'));
    expect((await expectReason(readTableFile(join(dir, 'folder.csv')), 'FILE_NOT_REGULAR')).message).toContain('a directory');
  });

  it('refuses a file over maxBytes before reading it, naming the limit', async () => {
    const big = sparse('big.csv', Buffer.from('a,b\n'), GIB);
    const error = await expectReason(readTableFile(big), 'FILE_TOO_LARGE');
    expect(error.message).toContain(`${big} is ${GIB} bytes, over the limit of 268435456 bytes (256 MiB)`);
    await expectReason(readTableFile(file('small.csv', 'a,b\n1,2\n'), { maxBytes: 4 }), 'FILE_TOO_LARGE');
    expect((await readTableFile(file('fits.csv', 'a,b\n1,2\n'), { maxBytes: 8 })).numRows()).toBe(1);
  });

  it('stops at the first piece that is not UTF-8, without reading the rest', async () => {
    for (const name of ['bad.csv', 'bad.json']) {
      const path = sparse(name, Uint8Array.from([0xff]), GIB);
      const error = await expectReason(readTableFile(path, { maxBytes: 2 * GIB }), 'FILE_ENCODING');
      expect(error.message).toContain('byte 0xff at offset 0 (line 1)');
    }
  });

  it('names the user\'s path when the file cannot be read', async () => {
    await expectReason(readTableFile(join(dir, 'missing.csv')), 'FILE_NOT_FOUND');
    await expectReason(readTableFile(join(dir, 'missing-dir', 'x.csv')), 'FILE_NOT_FOUND');
  });
});

describe('readTableFile: Arrow files need a schema', () => {
  it('refuses zeros, noise and a truncated file; reads a real one', async () => {
    await expectReason(readTableFile(file('zeros.arrow', new Uint8Array(4096))), 'FILE_FORMAT');
    for (let seed = 1; seed <= 20; seed++) await expectReason(readTableFile(file(`noise${seed}.arrow`, noise(4096, seed))), 'FILE_FORMAT');
    const real = tableToIPC(tableFromArrays({ id: Int32Array.from([1, 2, 3]) }), 'file');
    expect((await readTableFile(file('real.arrow', real))).numRows()).toBe(3);
    await expectReason(readTableFile(file('cut.arrow', real.subarray(0, real.length - 20))), 'FILE_FORMAT');
    const stream = tableToIPC(tableFromArrays({ id: Int32Array.from([1, 2]) }), 'stream');
    expect((await readTableFile(file('real.arrows', stream))).numRows()).toBe(2);
    await expectReason(readTableFile(file('eos.arrows', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]))), 'FILE_FORMAT');
  });

  it('refuses 1 GiB of zeros after its first piece', async () => {
    const error = await expectReason(readTableFile(sparse('zeros-1g.arrow', new Uint8Array(0), GIB), { maxBytes: 2 * GIB }), 'FILE_FORMAT');
    expect(error.message).toContain('does not begin with an Arrow schema');
  });
});

describe('readTableStream', () => {
  const pieces = (...parts: (string | Uint8Array)[]) => Readable.from(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));

  it('reads CSV and JSON from a stream in pieces', async () => {
    const csv = await readTableStream(pieces('id,na', 'me\n1,', 'é\n'), { format: 'csv' });
    expect(csv.objects()).toEqual([{ id: 1, name: 'é' }]);
    const json = await readTableStream(pieces('[{"a": 1}', ', {"a": 2}]'), { format: 'json' });
    expect(json.array('a')).toEqual([1, 2]);
  });

  it('stops past maxBytes, on invalid UTF-8, on nothing at all and on a stream that is not Arrow', async () => {
    const error = await expectReason(readTableStream(pieces('a,b\n', '1,2\n'), { format: 'csv', maxBytes: 5 }), 'FILE_TOO_LARGE');
    expect(error.message).toContain('standard input is larger than the limit of 5 bytes');
    await expectReason(readTableStream(pieces(Uint8Array.from([0x61, 0xc3]), '('), { format: 'csv' }), 'FILE_ENCODING');
    await expectReason(readTableStream(pieces(), { format: 'csv', label: 'the pipe' }), 'FILE_EMPTY');
    await expectReason(readTableStream(pieces(new Uint8Array(64)), { format: 'arrow' }), 'FILE_FORMAT');
  });

  it('passes the stream\'s own error through', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('interrupted')); } });
    await expect(readTableStream(failing, { format: 'csv' })).rejects.toThrow('interrupted');
  });
});
