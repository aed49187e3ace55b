import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FinRiskCacheError } from '../errors.js';
import { LocalStore } from './local-store.js';

const dir = mkdtempSync(join(tmpdir(), 'finrisk-local-mp-'));
const writer = fileURLToPath(new URL('../../test/fixtures/local-writer.ts', import.meta.url));

function run(path: string, id: string, count: number): Promise<{ id: string; sawOther: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path, id, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`writer ${id} exited ${code}: ${err}`))));
  });
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('local store', () => {
  it('is shared safely by two processes at once', async () => {
    const path = join(dir, 'shared.db');
    const [a, b] = await Promise.all([run(path, 'a', 200), run(path, 'b', 200)]);
    expect(a.sawOther).toBe('b-199');
    expect(b.sawOther).toBe('a-199');
    const store = new LocalStore({ path });
    await store.connect();
    // Every increment of both processes counted: no lost update.
    expect(Buffer.from((await store.get('shared:counter'))!).toString()).toBe('400');
    let keys = 0;
    for await (const batch of store.scan('shared:a:')) keys += batch.length;
    for await (const batch of store.scan('shared:b:')) keys += batch.length;
    expect(keys).toBe(400);
    await store.close();
  });

  it('keeps data across reopening, and TTLs across processes', async () => {
    const path = join(dir, 'reopen.db');
    const first = new LocalStore({ path });
    const start = Date.now();
    await first.set('k', Buffer.from('kept'));
    await first.set('long', Buffer.from('y'), { ttlMs: 60_000 });
    await first.set('short', Buffer.from('x'), { ttlMs: 100 });
    await first.close();
    // Only ever later than the short TTL, however slow the machine: it has surely passed.
    await new Promise((r) => setTimeout(r, 200));
    const second = new LocalStore({ path });
    expect(Buffer.from((await second.get('k'))!).toString()).toBe('kept');
    expect(await second.ttl('k')).toBe(-1);
    expect(await second.get('short')).toBeNull();
    // The long TTL came across the reopening: counted from the write, not from the reopening.
    const left = await second.ttl('long');
    expect(left).toBeLessThanOrEqual(60_000 - 200);
    expect(left).toBeGreaterThanOrEqual(60_000 - (Date.now() - start));
    await second.close();
  });

  it('refuses a file that is not a database with a clear error, and leaves it alone', async () => {
    const path = join(dir, 'not-a-db.db');
    writeFileSync(path, 'this is a text file, not SQLite, and it must stay as it is'.repeat(100));
    const store = new LocalStore({ path });
    const error = await store.get('k').catch((e: unknown) => e);
    expect(FinRiskCacheError.hasCode(error, 'E_LOCAL_STORE')).toBe(true);
    expect((error as Error).message).toMatch(/not a valid cache database/);
    expect(readFileSync(path, 'utf8').startsWith('this is a text file')).toBe(true);
  });

  it("keeps node:sqlite's ExperimentalWarning (Node 22) off stderr, and lets the application's warnings through", async () => {
    const script = fileURLToPath(new URL('../../test/fixtures/local-warnings.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, join(dir, 'warnings.db')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect({ code, out }).toEqual({ code: 0, out: 'v' });
    expect(err).not.toMatch(/SQLite/);
    expect(err).toMatch(/ExperimentalWarning: an application warning/);
  });

  it('reports a path it cannot create, naming it', async () => {
    // A folder under a regular file cannot be created, even by root (permission bits would not stop root).
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const path = join(file, 'sub', 'cache.db');
    const error = await new LocalStore({ path }).get('k').catch((e: unknown) => e);
    expect(FinRiskCacheError.hasCode(error, 'E_LOCAL_STORE')).toBe(true);
    expect((error as Error).message).toContain(path);
  });
});
