import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import * as aq from 'arquero';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameError } from './errors.js';
import { readTableFile, writeTableFile } from './table-files.js';

const dir = mkdtempSync(join(tmpdir(), 'frames-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const caught = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

const CUSTOMERS =
  'customer_id,account_number,name,credit_score,income,opened,last_seen,active,notes\n' +
  '00123,12345678901234567890,"Smith, Jane",720,75000.5,2024-01-15,2024-01-15T10:30:00Z,true,\n' +
  '00456,,Bob,,62000,2023-06-01,2024-02-01T08:00:00Z,false,"said ""no"""\n' +
  '10001,9876543210987654,Ana,650,,,,,""\n';

describe('readTableFile / writeTableFile', () => {
  it('writes a CSV with identifiers, empty cells, dates and quotes back byte-identical', async () => {
    const path = file('customers.csv', CUSTOMERS);
    const table = await readTableFile(path);
    expect(table.get('customer_id', 0)).toBe('00123');
    expect(table.get('account_number', 0)).toBe('12345678901234567890');
    expect(table.get('credit_score', 1)).toBeNull();
    expect(table.get('opened', 0)).toEqual(new Date('2024-01-15T00:00:00Z'));
    expect(table.get('notes', 0)).toBeNull();
    expect(table.get('notes', 2)).toBe('');
    const out = join(dir, 'customers-out.csv');
    await writeTableFile(table, out);
    expect(readFileSync(out, 'utf8')).toBe(CUSTOMERS);
  });

  it('keeps CRLF line endings and a missing final newline, and TSV', async () => {
    const crlf = 'a,b\r\n1,x\r\n2,y';
    const t = await readTableFile(file('crlf.csv', crlf));
    await writeTableFile(t, join(dir, 'crlf-out.csv'));
    expect(readFileSync(join(dir, 'crlf-out.csv'), 'utf8')).toBe(crlf);
    const tsv = 'id\tnote\n007\ta,b\n';
    await writeTableFile(await readTableFile(file('t.tsv', tsv)), join(dir, 't-out.tsv'));
    expect(readFileSync(join(dir, 't-out.tsv'), 'utf8')).toBe(tsv);
  });

  it('takes caller column types', async () => {
    const t = await readTableFile(file('typed.csv', 'id,amount\n00123,1.50\n'), { columnTypes: { id: 'integer', amount: 'float' } });
    expect(t.get('id', 0)).toBe(123);
    expect(t.get('amount', 0)).toBe(1.5);
  });

  it('reads and writes JSON records with dates kept as their text form', async () => {
    const path = file('r.json', JSON.stringify([{ id: '007', n: 1, d: '2024-01-15', ok: true }, { id: '008', n: null, d: null, ok: false, extra: 'x' }]));
    const t = await readTableFile(path);
    expect(t.columnNames()).toEqual(['id', 'n', 'd', 'ok', 'extra']);
    expect(t.get('d', 0)).toEqual(new Date('2024-01-15T00:00:00Z'));
    await writeTableFile(t, join(dir, 'r-out.json'));
    expect(JSON.parse(readFileSync(join(dir, 'r-out.json'), 'utf8'))).toEqual([
      { id: '007', n: 1, d: '2024-01-15', ok: true, extra: null },
      { id: '008', n: null, d: null, ok: false, extra: 'x' },
    ]);
  });

  it('reads an Arrow file written by apache-arrow and writes Arrow back', async () => {
    const arrow = tableFromArrays({ id: Int32Array.from([1, 2, 3]), name: ['a', 'b', 'c'], score: Float64Array.from([0.5, 1.5, 2.5]) });
    const path = file('a.arrow', tableToIPC(arrow, 'file'));
    const t = await readTableFile(path);
    expect(t.objects()).toEqual([{ id: 1, name: 'a', score: 0.5 }, { id: 2, name: 'b', score: 1.5 }, { id: 3, name: 'c', score: 2.5 }]);
    await writeTableFile(t, join(dir, 'b.feather'));
    expect((await readTableFile(join(dir, 'b.feather'))).objects()).toEqual(t.objects());
  });

  it('reads Parquet with its types (hyparquet)', async () => {
    const t = await readTableFile(join(import.meta.dirname, '../test/fixtures/customers.parquet'));
    expect(t.numRows()).toBe(3);
    expect(t.get('customer_id', 0)).toBe('00123');
    expect(t.get('age', 1)).toBeNull();
    expect(t.get('balance_cents', 1)).toBe(9007199254740993n);
    expect(t.get('opened_at', 0)).toEqual(new Date('2024-01-15T10:30:00Z'));
  });

  it('writes a plain arquero table with JS dates', async () => {
    const t = aq.table({ d: [new Date('2024-01-01T00:00:00Z'), null], t: [new Date('2024-01-01T10:00:00Z'), new Date(0)] });
    await writeTableFile(t, join(dir, 'plain.csv'));
    expect(readFileSync(join(dir, 'plain.csv'), 'utf8')).toBe('d,t\n2024-01-01,2024-01-01T10:00:00.000Z\n,1970-01-01T00:00:00.000Z\n');
  });

  it('names the file, row or byte offset of bad input', async () => {
    const missing = await caught(readTableFile(join(dir, 'nope.csv')));
    expect(FrameError.hasReason(missing, 'FILE_NOT_FOUND')).toBe(true);
    expect((missing as Error).message).toContain(join(dir, 'nope.csv'));
    expect(FrameError.hasReason(await caught(readTableFile(file('empty.csv', ''))), 'FILE_EMPTY')).toBe(true);
    const ragged = await caught(readTableFile(file('ragged.csv', 'a,b\n1,2\n3\n')));
    expect(FrameError.hasReason(ragged, 'CSV_RAGGED')).toBe(true);
    expect((ragged as Error).message).toMatch(/ragged.csv: row 2 \(line 3\) has 1 field/);
    const latin1 = await caught(readTableFile(file('latin1.csv', Buffer.concat([Buffer.from('a\ncaf'), Buffer.from([0xe9, 0x0a])]))));
    expect(FrameError.hasReason(latin1, 'FILE_ENCODING')).toBe(true);
    expect((latin1 as Error).message).toContain('offset 5 (line 2)');
    expect(FrameError.hasReason(await caught(readTableFile(file('x.xlsx', 'x'))), 'FILE_FORMAT')).toBe(true);
    expect(FrameError.hasReason(await caught(readTableFile(file('bad.json', '{"a":1}'))), 'FILE_FORMAT')).toBe(true);
    expect(FrameError.hasReason(await caught(writeTableFile(aq.table({ a: [1] }), join(dir, 'no/such/dir/out.csv'))), 'FILE_UNWRITABLE')).toBe(true);
  });
});

describe('writeTableFile onto an existing file', () => {
  const table = aq.table({ a: [1, 2] });
  const NEW = 'a\n1\n2\n';

  it('refuses without overwrite and leaves the file as it was', async () => {
    const path = file('keep.csv', 'old\n');
    const error = await caught(writeTableFile(table, path, { overwrite: false }));
    expect(FrameError.hasReason(error, 'FILE_EXISTS')).toBe(true);
    expect((error as FrameError).code).toBe('E_FILE');
    expect((error as Error).message).toContain(`${path} exists`);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
  });

  it('rewrites in place: the mode, the hard links and the symlink stay', async () => {
    const path = file('private.csv', 'old old old old old\n');
    chmodSync(path, 0o600);
    const link = join(dir, 'private-link.csv');
    linkSync(path, link);
    const symlink = join(dir, 'private-symlink.csv');
    symlinkSync(path, symlink);
    const inode = statSync(path).ino;
    await writeTableFile(table, symlink, { overwrite: true });
    expect(lstatSync(symlink).isSymbolicLink()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(path).ino).toBe(inode);
    expect(readFileSync(path, 'utf8')).toBe(NEW);
    expect(readFileSync(link, 'utf8')).toBe(NEW);
    await writeTableFile(aq.table({ b: ['x'] }), path, { format: 'json' });
    expect(JSON.parse(readFileSync(link, 'utf8'))).toEqual([{ b: 'x' }]);
  });

  it('creates a new file, and leaves no temporary file behind in the folder', async () => {
    const sub = mkdtempSync(join(dir, 'fresh-'));
    await writeTableFile(table, join(sub, 'new.csv'), { overwrite: false });
    expect(readFileSync(join(sub, 'new.csv'), 'utf8')).toBe(NEW);
    expect(readdirSync(sub)).toEqual(['new.csv']);
  });

  it('refuses a FIFO without blocking, and names the user\'s path when the folder is missing', async () => {
    const fifo = join(dir, 'out-pipe.csv');
    execFileSync('mkfifo', [fifo]);
    expect(FrameError.hasReason(await caught(writeTableFile(table, fifo)), 'FILE_NOT_REGULAR')).toBe(true);
    const missing = join(dir, 'no-such-folder', 'out.csv');
    const error = await caught(writeTableFile(table, missing));
    expect(FrameError.hasReason(error, 'FILE_UNWRITABLE')).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`^cannot write ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT`));
    expect((error as Error).message).not.toContain('.tmp');
  });
});

describe('CSV line endings on a round trip', () => {
  it('writes lone-CR files back with lone CRs', async () => {
    const mac = 'a,b\r1,x\r2,y\r';
    await writeTableFile(await readTableFile(file('mac.csv', mac)), join(dir, 'mac-out.csv'));
    expect(readFileSync(join(dir, 'mac-out.csv'), 'utf8')).toBe(mac);
  });

  it('reads a file that ends in a blank line', async () => {
    expect((await readTableFile(file('blank-end.csv', 'a,b\n1,2\n\n'))).objects()).toEqual([{ a: 1, b: 2 }]);
  });
});
