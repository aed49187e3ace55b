#!/usr/bin/env node
/**
 * Builds dist/sea/finrisk-cache: a Node single executable application (SEA) that runs without
 * Node installed. Steps (https://nodejs.org/api/single-executable-applications.html):
 *   1. bundle the CLI into one CommonJS file (scripts/bundle.mjs);
 *   2. `node --experimental-sea-config sea-config.json` turns it into a preparation blob;
 *   3. copy the running `node` binary (process.execPath);
 *   4. inject the blob with postject, flipping the fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2
 *      (and, on macOS, remove and re-add the signature).
 * The executable is the whole program: the embedded store is the node:sqlite built into the copied
 * Node. Release builds run on the active LTS (26), so the executable carries that Node.
 *
 * Usage: node scripts/sea.mjs   (after `pnpm --filter @finrisk/finrisk-cache-app... build`)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.mjs';

const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const app = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the executable is written. */
export const seaDir = join(app, 'dist', 'sea');
/** The single executable this platform gets. */
export const seaFile = join(seaDir, process.platform === 'win32' ? 'finrisk-cache.exe' : 'finrisk-cache');

/** Builds the single executable into `seaDir` (emptied first). */
export async function buildSea() {
  const [major] = process.versions.node.split('.').map(Number);
  if (major < 22) throw new Error(`single executables need Node 22 or later; this is ${process.version}`);

  rmSync(seaDir, { recursive: true, force: true });
  mkdirSync(seaDir, { recursive: true });
  const main = join(seaDir, 'finrisk-cache.cjs');
  await bundle(main);

  const blob = join(seaDir, 'sea-prep.blob');
  const config = join(seaDir, 'sea-config.json');
  writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false }, null, 2));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'pipe' });

  copyFileSync(process.execPath, seaFile);
  chmodSync(seaFile, 0o755);
  if (process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', seaFile]);

  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  const args = [postject, seaFile, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE];
  if (process.platform === 'darwin') args.push('--macho-segment-name', 'NODE_SEA');
  try {
    // postject's ELF parser warns about every .note section; show its output only when it fails.
    execFileSync(process.execPath, args, { stdio: 'pipe' });
  } catch (error) {
    process.stderr.write(String(error.stderr ?? ''));
    throw error;
  }
  if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', seaFile]);

  rmSync(blob);
  rmSync(config);
  rmSync(main);
  return seaFile;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildSea();
  console.log(`sea: ${realpathSync(seaFile)} (${(statSync(seaFile).size / 1024 / 1024).toFixed(0)} MB, Node ${process.version} inside)`);
}
