#!/usr/bin/env node
/**
 * Builds dist/bundle/finrisk-cache.cjs: the `finrisk-cache` bin of @finrisk/cache-cli and all it
 * loads (cache-core, cache-ml, cache-frames, node-redis, arquero, commander, ...) in ONE CommonJS
 * file that runs with `node` alone, no node_modules needed.
 *
 * better-sqlite3 (the embedded store) is a native module and cannot live inside a JS file. It stays
 * external and is loaded, only when the embedded store is used, from a node_modules folder next to
 * the bundle; this script copies it there (dist/bundle/node_modules: better-sqlite3's lib and its
 * compiled .node for this platform and Node ABI, plus `bindings` and `file-uri-to-path`). Copy that
 * folder along with the bundle to keep the embedded store. Without it:
 *   - CACHE_BACKEND=auto with Redis unreachable falls back to memory only, and says so;
 *   - CACHE_BACKEND=local fails with E_DEPENDENCY_MISSING (exit 3), naming the package to install.
 * Redis, memory and every command work either way.
 *
 * The dashboard's page and uPlot need nothing here: @finrisk/cache-cli's build embeds them as a
 * string in the chunk `finrisk-cache dashboard` imports, so they are in this file too, and run
 * only when that command does (test/standalone.integration.test.ts serves them from a lone copy).
 *
 * Usage: node scripts/bundle.mjs   (after `pnpm --filter @finrisk/finrisk-cache-app... build`)
 */
import { cpSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(app, 'dist', 'bundle');
const outfile = join(outDir, 'finrisk-cache.cjs');
// @finrisk/cache-cli's package.json: its `bin` is what the bundle runs, and its dependencies are where
// better-sqlite3 is found.
const cliManifest = realpathSync(join(app, 'node_modules', '@finrisk', 'cache-cli', 'package.json'));

/** The built `finrisk-cache` bin of @finrisk/cache-cli (what `npm i -g @finrisk/cache-cli` installs). */
export function cliBin() {
  const { bin } = JSON.parse(readFileSync(cliManifest, 'utf8'));
  return join(dirname(cliManifest), bin['finrisk-cache']);
}

/** The version of @finrisk/cache-cli, which `finrisk-cache --version` prints. */
export function cliVersion() {
  return JSON.parse(readFileSync(cliManifest, 'utf8')).version;
}

/** Builds the single-file bundle into `outfile`. */
export async function bundle(target = outfile) {
  await build({
    entryPoints: [cliBin()],
    outfile: target,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['better-sqlite3'],
    // cache-core loads better-sqlite3 with createRequire(import.meta.url): point it at this file.
    define: { 'import.meta.url': '__finriskBundleUrl' },
    // The bin's own `#!/usr/bin/env node` line stays first.
    banner: { js: 'var __finriskBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/** Copies better-sqlite3 and what it needs at run time into `dir/node_modules`. */
export function copyNativeModules(dir) {
  // Resolved from cache-cli, whose optional dependency it is.
  const cliRequire = createRequire(cliManifest);
  const sqliteDir = dirname(cliRequire.resolve('better-sqlite3/package.json'));
  const sqliteRequire = createRequire(join(sqliteDir, 'package.json'));
  const bindingsDir = dirname(sqliteRequire.resolve('bindings/package.json'));
  const uriDir = dirname(createRequire(join(bindingsDir, 'package.json')).resolve('file-uri-to-path/package.json'));
  const modules = join(dir, 'node_modules');
  rmSync(modules, { recursive: true, force: true });
  const copy = (from, to, parts) => {
    for (const part of parts) cpSync(join(from, part), join(modules, to, part), { recursive: true, dereference: true });
  };
  copy(sqliteDir, 'better-sqlite3', ['package.json', 'lib', 'build/Release/better_sqlite3.node']);
  copy(bindingsDir, 'bindings', ['package.json', 'bindings.js']);
  copy(uriDir, 'file-uri-to-path', ['package.json', 'index.js']);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await bundle();
  copyNativeModules(outDir);
  console.log(`bundle: ${outfile} (${(statSync(outfile).size / 1024 / 1024).toFixed(1)} MB), better-sqlite3 in ${join(outDir, 'node_modules')}`);
}
