#!/usr/bin/env node
/**
 * Checks a release archive as an operator would use it: verifies its checksum file, unpacks it
 * into an empty folder, and runs the executable from there with nothing of this process's
 * environment but a PATH: `--version` prints the version in the archive's name, the archive holds
 * the executable alone, and the embedded store (node:sqlite, inside it) stores and reads a value, both with
 * CACHE_BACKEND=local and as `auto`'s fallback when Redis is unreachable, also when the executable
 * is run through a symlink on the PATH (as the README installs it). It needs no Redis, so the
 * release workflow runs it on every platform; test/standalone.integration.test.ts also runs the
 * guide's examples against Redis with it.
 *
 * Usage: node scripts/smoke-release-archive.mjs [ARCHIVE]   (default: the one in dist/release)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checksumLine, releaseDir } from './release-archive.mjs';

/** Unpacks `archive` into a new empty folder; returns the folder the executable is in, and the executable. */
export function unpack(archive) {
  const into = mkdtempSync(join(tmpdir(), 'finrisk-release-'));
  const windows = archive.endsWith('.zip');
  const tar = windows && process.platform === 'win32' ? join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'tar.exe') : 'tar';
  execFileSync(tar, [windows ? '-xf' : '-xzf', archive, '-C', into]);
  const folder = join(into, basename(archive).replace(/\.(tar\.gz|zip)$/, ''));
  return { root: into, folder, exe: join(folder, windows ? 'finrisk-cache.exe' : 'finrisk-cache') };
}

/** Throws unless `archive.sha256` holds the archive's SHA-256, in `sha256sum -c` form. */
export function verifyChecksum(archive) {
  const recorded = readFileSync(`${archive}.sha256`, 'utf8');
  if (recorded !== checksumLine(archive)) throw new Error(`${archive}.sha256 does not match the archive:\n${recorded}`);
}

/** A loopback port nothing listens on (taken, then released). */
function closedPort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The checks; throws on the first that fails. Resolves with the unpacked executable and a cleanup of the folders. */
export async function smoke(archive) {
  verifyChecksum(archive);
  const { root, folder, exe } = unpack(archive);
  const version = /^finrisk-cache-(\d+\.\d+\.\d+[^-]*)-/.exec(basename(archive))?.[1];
  const work = mkdtempSync(join(tmpdir(), 'finrisk-release-work-'));
  const env = (extra) => ({ PATH: folder, HOME: work, XDG_CACHE_HOME: join(work, 'xdg'), SystemRoot: process.env.SystemRoot ?? '', NO_COLOR: '1', ...extra });
  const run = (args, extra = {}) => {
    const r = spawnSync(exe, args, { cwd: work, env: env(extra), encoding: 'utf8', timeout: 60_000 });
    if (r.error) throw r.error;
    return r;
  };
  const expect = (label, r, status, pattern) => {
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== status || (pattern && !pattern.test(out))) {
      throw new Error(`${label}: exit ${r.status} (expected ${status}${pattern ? `, output matching ${pattern}` : ''})\n${out}`);
    }
    console.log(`  ${label}: exit ${r.status}  ${out.trim().split('\n')[0]}`);
  };

  const contents = readdirSync(folder);
  if (contents.join() !== basename(exe)) throw new Error(`the archive should hold the executable alone, and holds: ${contents.join(', ')}`);
  expect('--version', run(['--version']), 0, new RegExp(`^${version?.replaceAll('.', '\\.')}\\n$`));
  const local = { CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(work, 'local.db') };
  expect('cache-feat (local)', run(['cache-feat', 'CUST001', '{"age": 35}'], local), 0);
  expect('get-feat (local)', run(['get-feat', 'CUST001'], local), 0, /"age": 35/);
  const down = { REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, CACHE_LOCAL_PATH: join(work, 'auto.db') };
  expect('cache-pred (auto, Redis down)', run(['cache-pred', 'CUST001', 'credit', '{"risk_score": 0.75}'], down), 0, /using the embedded store at/);
  expect('get-pred (auto, Redis down)', run(['get-pred', 'CUST001', 'credit'], down), 0, /"risk_score": 0\.75/);
  expect('check (Redis down)', run(['check'], down), 3);
  if (process.platform !== 'win32') {
    // Installed as the README says: a symlink on the PATH to the unpacked executable.
    const linkDir = join(work, 'bin');
    mkdirSync(linkDir);
    symlinkSync(exe, join(linkDir, 'finrisk-cache'));
    const linked = spawnSync('finrisk-cache', ['get-feat', 'CUST001'], { cwd: work, env: { ...env(local), PATH: linkDir }, encoding: 'utf8', timeout: 60_000 });
    expect('get-feat (local, through a symlink on the PATH)', linked, 0, /"age": 35/);
  }
  return { folder, exe, cleanup: () => [root, work].forEach((dir) => rmSync(dir, { recursive: true, force: true })) };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const archive =
    process.argv[2] ?? join(releaseDir, readdirSync(releaseDir).find((f) => /\.(tar\.gz|zip)$/.test(f)) ?? 'no archive in dist/release');
  console.log(`smoke test of ${archive}`);
  const { cleanup } = await smoke(archive);
  cleanup();
  console.log(`ok: ${basename(archive)} verifies, unpacks into an empty folder and runs there`);
}
