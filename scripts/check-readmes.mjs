#!/usr/bin/env node
// Runs the quick start of every published package's README as a new user would: the first ```ts
// block under "## Quick start" is written to a file in an empty folder outside the workspace
// (where only the packages and the third-party modules it imports are linked into node_modules),
// type-checked (strict, NodeNext), and run with tsx. It fails when the block does not type-check,
// throws, or does not finish within a minute (a connection left open keeps a script alive).
// Quick starts that talk to Redis get a redis-server started here: `redis://localhost:6379` in
// the block becomes its URL (never the real 6379), and REDIS_URL points at it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startRedis } from './lib/redis.mjs';
import { publishedPackages, root, step } from './lib/workspace.mjs';

const TIMEOUT_MS = 60_000;
const DONE = '__quick_start_finished__';

/** The first ```ts block of the "Quick start" section (or of the file, when it has no such section). */
export function quickStartOf(markdown) {
  const section = /^##\s+Quick start\b[^\n]*\n([\s\S]*?)(?=^##\s|(?![\s\S]))/im.exec(markdown)?.[1] ?? markdown;
  return /^```(?:ts|typescript)\s*\n([\s\S]*?)^```/m.exec(section)?.[1];
}

/** Bare module specifiers imported by `code`, as package names. */
function importedPackages(code) {
  const names = new Set();
  for (const m of code.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec || spec.startsWith('.') || spec.startsWith('node:')) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return [...names];
}

/** Where a third-party package is installed in the workspace (the first package that has it). */
function findInstalled(name, packages) {
  for (const dir of [root, ...packages.map((p) => p.dir)]) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
  }
  return undefined;
}

function link(nodeModules, name, target) {
  const at = join(nodeModules, name);
  if (existsSync(at)) return;
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(target, at, 'dir');
}

const packages = publishedPackages();
const work = mkdtempSync(join(tmpdir(), 'finrisk-readmes-'));
const failures = [];
let redis;
try {
  step('build');
  const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', ...packages.map((p) => `--filter=${p.name}`), '--output-logs=errors-only'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed');

  redis = await startRedis();
  const nodeModules = join(work, 'node_modules');
  mkdirSync(nodeModules);
  // Node resolves symlinks to their real path, so a package's own imports (its peers included)
  // resolve from the workspace exactly as from an install: one copy of each module.
  for (const p of packages) link(nodeModules, p.name, p.dir);
  link(nodeModules, '@types/node', findInstalled('@types/node', packages));
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'readme-quick-starts', private: true, type: 'module' }));
  writeFileSync(join(work, 'run.mjs'), `const file = process.argv[2];
process.on('uncaughtException', (e) => { console.error('THREW', e); process.exit(99); });
process.on('unhandledRejection', (e) => { console.error('THREW (unhandled rejection)', e); process.exit(99); });
await import(file);
console.log(${JSON.stringify(DONE)});
`);

  const snippets = [];
  for (const p of packages) {
    const readme = join(p.dir, 'README.md');
    const code = existsSync(readme) ? quickStartOf(readFileSync(readme, 'utf8')) : undefined;
    if (!code) {
      failures.push(`${p.name}: README.md has no \`\`\`ts block under "## Quick start"`);
      continue;
    }
    for (const name of importedPackages(code)) {
      if (packages.some((q) => q.name === name)) continue;
      const target = findInstalled(name, packages);
      if (!target) failures.push(`${p.name}: the quick start imports ${name}, which no workspace package installs`);
      else link(nodeModules, name, target);
    }
    const file = `${p.name.replace(/^@finrisk\//, '')}.mts`;
    const usesRedis = /redis:\/\/|REDIS_URL/.test(code);
    writeFileSync(join(work, file), code.replace(/redis:\/\/localhost:6379/g, redis.url));
    snippets.push({ p, file, usesRedis });
  }

  step('type-check the quick starts (strict, NodeNext)');
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023'], strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      files: snippets.map((s) => s.file),
    }),
  );
  const tsc = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--pretty', 'false'], { cwd: work, encoding: 'utf8' });
  if (tsc.status !== 0) failures.push(`the quick starts do not type-check:\n${tsc.stdout}${tsc.stderr}`);
  else console.log(`${snippets.length} quick starts type-check`);

  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const env = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (/^(REDIS_|CACHE_)/.test(k)) delete env[k];
  env.REDIS_URL = redis.url;
  for (const { p, file, usesRedis } of snippets) {
    step(`${p.name}: quick start${usesRedis ? ` (Redis at ${redis.url})` : ''}`);
    const child = spawn(tsx, ['run.mjs', `./${file}`], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    const [code, signal] = await new Promise((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    process.stdout.write(out.replace(`${DONE}\n`, '').replace(/^/gm, '  | '));
    process.stdout.write(`\n  exit ${code ?? signal}\n`);
    if (signal) failures.push(`${p.name}: the quick start did not finish within ${TIMEOUT_MS / 1000} s (a connection left open?)`);
    else if (code === 99) failures.push(`${p.name}: the quick start threw (see above)`);
    else if (!out.includes(DONE)) failures.push(`${p.name}: the quick start stopped before its end (exit ${code})`);
  }
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
} finally {
  redis?.stop();
  if (process.env.KEEP_README_DIR) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  for (const f of failures) process.stderr.write(`\nFAIL ${f}\n`);
  process.exit(1);
}
console.log('\ncheck-readmes: every quick start runs as written');
