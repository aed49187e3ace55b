#!/usr/bin/env node
/**
 * Builds dist/sea/finrisk-cache: a Node single executable application (SEA) that runs without
 * Node installed. Steps (https://nodejs.org/api/single-executable-applications.html):
 *   1. bundle the CLI into one CommonJS file (scripts/bundle.mjs);
 *   2. `node --experimental-sea-config sea-config.json` turns it into a preparation blob;
 *   3. copy the running `node` binary (process.execPath);
 *   4. inject the blob with postject, flipping the fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2
 *      (and, on macOS, remove and re-add the signature).
 * better-sqlite3 is native and stays outside, as for the bundle: it is copied into
 * dist/sea/node_modules and loaded from there only when the embedded store is used.
 *
 * Usage: node scripts/sea.mjs
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, copyNativeModules } from './bundle.mjs';

const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(app, 'dist', 'sea');
const exe = join(outDir, process.platform === 'win32' ? 'finrisk-cache.exe' : 'finrisk-cache');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 0)) throw new Error(`single executables need Node 20 or later; this is ${process.version}`);

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const main = join(outDir, 'finrisk-cache.cjs');
await bundle(main);

const blob = join(outDir, 'sea-prep.blob');
const config = join(outDir, 'sea-config.json');
writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false }, null, 2));
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });

copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
if (process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', exe]);

const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
const args = [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE];
if (process.platform === 'darwin') args.push('--macho-segment-name', 'NODE_SEA');
try {
  // postject's ELF parser warns about every .note section; show its output only when it fails.
  execFileSync(process.execPath, args, { stdio: 'pipe' });
} catch (error) {
  process.stderr.write(String(error.stderr ?? ''));
  throw error;
}
if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', exe]);

copyNativeModules(outDir);
rmSync(blob);
rmSync(config);
rmSync(main);
console.log(`sea: ${realpathSync(exe)} (${(statSync(exe).size / 1024 / 1024).toFixed(0)} MB), better-sqlite3 in ${join(outDir, 'node_modules')}`);
