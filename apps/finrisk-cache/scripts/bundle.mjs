#!/usr/bin/env node
/**
 * Builds dist/bundle/finrisk-cache.cjs: the `finrisk-cache` bin of @finrisk/cache-cli and all it
 * loads (cache-core, cache-ml, cache-frames, node-redis, arquero, commander, ...) in ONE CommonJS
 * file that runs with `node` alone, no node_modules needed.
 *
 * The embedded store needs nothing beside the file either: it is Node's built-in node:sqlite
 * (in the 0.1 development versions it was better-sqlite3, a native module that had to be copied next to the bundle in a
 * node_modules folder compiled for one platform and Node ABI).
 *
 * The dashboard's page and uPlot need nothing here: @finrisk/cache-cli's build embeds them as a
 * string in the chunk `finrisk-cache dashboard` imports, so they are in this file too, and run
 * only when that command does (test/standalone.integration.test.ts serves them from a lone copy).
 *
 * Usage: node scripts/bundle.mjs   (after `pnpm --filter @finrisk/finrisk-cache-app... build`)
 */
import { mkdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(app, 'dist', 'bundle');
const outfile = join(outDir, 'finrisk-cache.cjs');
// @finrisk/cache-cli's package.json: its `bin` is what the bundle runs.
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
    target: 'node22',
    format: 'cjs',
    // Modules that read files beside themselves (import.meta.url) get this file's URL.
    define: { 'import.meta.url': '__finriskBundleUrl' },
    // The bin's own `#!/usr/bin/env node` line stays first.
    banner: { js: 'var __finriskBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    legalComments: 'none',
    logLevel: 'warning',
  });
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await bundle();
  console.log(`bundle: ${outfile} (${(statSync(outfile).size / 1024 / 1024).toFixed(1)} MB)`);
}
