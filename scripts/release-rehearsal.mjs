#!/usr/bin/env node
// `pnpm release:rehearse`: a release, and the next minor release, rehearsed end to end against a
// throwaway npm registry on loopback, as an operator and an application team would meet them.
//
//  1. Starts verdaccio (storage in a temporary folder, no uplinks: it only holds what is published
//     to it) and a redis-server, both on free loopback ports.
//  2. Copies the working tree (tracked and untracked, not ignored files) into a temporary folder,
//     makes it a git repository of its own (changesets tags releases there, never here), and runs
//     the real `pnpm version-packages` and `pnpm release` in it against the registry.
//  3. In empty folders outside the workspace, from the registry: installs @finrisk/cache-core,
//     cache-ml, cache-frames and arquero and runs the guide's API examples (rehearsal/guide-api.mjs);
//     `npm i -g @finrisk/cache-cli` with no compiler on the PATH and runs every example of the guide
//     with that `finrisk-cache`, then the embedded store; the same global install with npm 12 (from
//     the registry), on this Node and on every Node in REHEARSAL_NODE_DIRS; `npx @finrisk/cache-cli
//     check` with optional dependencies left out, the embedded store included.
//  4. Writes a changeset (a minor of cache-ml and cache-frames) in the copy, versions and releases
//     again, installs the new release beside the old one, and checks a rolling deploy: processes on
//     each release read the other's predictions, features, artifacts and frames from one Redis
//     (rehearsal/rolling-deploy.mjs), and the old CLI reads the new release's entries. That is the
//     payload part of the upgrade policy in packages/cache-core/README.md: old reads new, new reads old.
//
// Everything it starts is stopped and every folder removed at the end, also on failure or Ctrl-C
// (KEEP_REHEARSAL_DIR=1 keeps the folders). Nothing in this checkout changes: not the versions,
// not the changelogs, not .changeset/.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { pathWithoutCompilers } from './lib/no-compilers.mjs';
import { freePort, startRedis } from './lib/redis.mjs';
import { publishedPackages, root, step } from './lib/workspace.mjs';
import { prepareWorkspace, readGuideExamples, runLine } from '../apps/finrisk-cache/scripts/guide-examples.mjs';

const STEP_TIMEOUT_MS = 10 * 60_000;
const CLI = '@finrisk/cache-cli';
/** The packages the rehearsal's minor release bumps (cache-core keeps its version: see the report at the end). */
const MINOR = ['@finrisk/cache-ml', '@finrisk/cache-frames'];

const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'finrisk-rehearsal-'));
if (!relative(root, work).startsWith('..')) throw new Error(`${work} is inside the workspace; set TMPDIR elsewhere`);
const logs = join(work, 'logs');
mkdirSync(logs);
const children = new Set();
const cleanups = [];
let logCount = 0;

function elapsed(since = started) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/**
 * Runs a command to the end (bounded by `timeoutMs`), its output into a log file; resolves with
 * { status, output (stdout and stderr as they came), stdout }. Rejects on a non-zero exit unless `allowFailure`, with the log's last lines.
 */
function run(cmd, args, { cwd, env = process.env, allowFailure = false, timeoutMs = STEP_TIMEOUT_MS, label = `${cmd} ${args.join(' ')}` } = {}) {
  const log = join(logs, `${String(++logCount).padStart(2, '0')}-${cmd.split('/').pop()}.log`);
  const out = createWriteStream(log);
  out.write(`$ ${cmd} ${args.join(' ')}\n  (in ${cwd})\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    let stdout = '';
    const collect = (chunk) => {
      output += chunk;
      out.write(chunk);
    };
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      collect(chunk);
    });
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      collect(`\n[rehearsal: killed after ${timeoutMs / 1000} s]\n`);
      killTree(child);
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      children.delete(child);
      out.end();
      reject(new Error(`${label}: ${error.message}`));
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      children.delete(child);
      out.end();
      if ((status === 0 || allowFailure) && !signal) resolve({ status, output, stdout });
      else reject(new Error(`${label}: exit ${status ?? signal} (log: ${log})\n${tail(output, 40)}`));
    });
  });
}

function tail(text, lines) {
  return text.trimEnd().split('\n').slice(-lines).map((l) => `    | ${l}`).join('\n');
}

/** Every process below `pid` (turbo runs each task in a process group of its own, so a group kill misses them). */
function descendantsOf(pid) {
  let table;
  try {
    table = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const childrenOf = new Map();
  for (const line of table.trim().split('\n')) {
    const [p, parent] = line.trim().split(/\s+/).map(Number);
    childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), p]);
  }
  const found = [];
  const stack = [pid];
  while (stack.length > 0) {
    for (const c of childrenOf.get(stack.pop()) ?? []) {
      found.push(c);
      stack.push(c);
    }
  }
  return found;
}

/** Kills a child and everything it started (synchronous, so that it also works in an exit handler). */
function killTree(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  for (const pid of [child.pid, ...descendantsOf(child.pid)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Starts verdaccio on `port` with its storage under `dir`; resolves when it answers /-/ping. */
async function startRegistry(dir, port) {
  const config = join(dir, 'config.yaml');
  mkdirSync(join(dir, 'storage'), { recursive: true });
  // No uplinks: the registry holds only what the rehearsal publishes. Anyone may publish (npm and
  // pnpm still want a token in .npmrc, and any token will do). Loopback only.
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(dir, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      '    max_users: -1',
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $all',
      '    unpublish: $all',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: pretty, level: warn }',
      'max_body_size: 200mb',
      '',
    ].join('\n'),
  );
  const bin = join(root, 'node_modules', '.bin', 'verdaccio');
  const log = createWriteStream(join(logs, 'verdaccio.log'));
  const child = spawn(bin, ['--config', config, '--listen', `127.0.0.1:${port}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  cleanups.push(() => killTree(child));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}: see ${join(logs, 'verdaccio.log')}`);
    try {
      const res = await fetch(`${url}-/ping`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return url;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('verdaccio did not answer /-/ping within 30 s');
}

/** Every file under `dir` whose name ends in `.node`: a native addon, compiled or downloaded at install. */
function nativeAddons(dir) {
  const found = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.node')) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/**
 * `npm i -g` of the CLI as operators run it: with npm 11 (the npm on the PATH) and npm 12 (fetched
 * from the registry with `npm pack`), each run by the Node it installs for, with no compiler on the
 * PATH. Then, on that Node, the prefix holds no native addon and the embedded store stores and reads
 * a value with nothing on stderr (Node 22's ExperimentalWarning for node:sqlite included). The
 * Nodes: this one, and every folder holding a `node` listed in REHEARSAL_NODE_DIRS (separated by
 * the PATH delimiter), for the full matrix by hand. This Node with npm 11 is the main install's.
 */
async function globalInstallMatrix({ version, scopeFlag, env, noCompilers }) {
  const npmOnPath = realpathSync(execFileSync('/bin/sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  const npm11 = npmOnPath.endsWith('.js') ? npmOnPath : join(dirname(npmOnPath), 'npm-cli.js');
  const npm12Dir = join(work, 'npm12');
  mkdirSync(npm12Dir);
  await run('npm', ['pack', 'npm@12', '--pack-destination', npm12Dir, '--loglevel=error'], { cwd: npm12Dir, env });
  const tarball = readdirSync(npm12Dir).find((f) => f.endsWith('.tgz'));
  check(tarball, 'npm pack npm@12 wrote no tarball');
  await run('tar', ['-xzf', tarball], { cwd: npm12Dir });
  const npm12 = join(npm12Dir, 'package', 'bin', 'npm-cli.js');

  const nodeDirs = [dirname(process.execPath), ...(process.env.REHEARSAL_NODE_DIRS ?? '').split(delimiter).filter(Boolean)];
  let n = 0;
  for (const nodeDir of nodeDirs) {
    const node = join(nodeDir, 'node');
    for (const npmCli of [npm11, npm12]) {
      if (nodeDir === dirname(process.execPath) && npmCli === npm11) continue;
      const prefix = join(work, `global-matrix-${++n}`);
      const PATH = `${nodeDir}${delimiter}${noCompilers}`;
      const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
      const npmVersion = execFileSync(node, [npmCli, '--version'], { encoding: 'utf8', env: { ...env, PATH } }).trim();
      const t = Date.now();
      await run(node, [npmCli, 'install', '--global', `--prefix=${prefix}`, '--no-audit', '--no-fund', '--loglevel=error', scopeFlag, `${CLI}@${version}`], {
        cwd: work,
        env: { ...env, PATH },
        label: `npm ${npmVersion} i -g on Node ${nodeVersion}`,
      });
      const took = elapsed(t);
      const addons = nativeAddons(prefix);
      check(addons.length === 0, `npm ${npmVersion} i -g on Node ${nodeVersion} installed native addons:\n${addons.join('\n')}`);
      const cliEnv = { ...env, PATH: `${join(prefix, 'bin')}${delimiter}${PATH}`, HOME: prefix, CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(prefix, 'local.db') };
      const { output: written, stdout: writtenOut } = await run('finrisk-cache', ['cache-feat', 'CUST010', '{"age": 52}'], { cwd: prefix, env: cliEnv });
      const { stdout: feat, output: read } = await run('finrisk-cache', ['get-feat', 'CUST010'], { cwd: prefix, env: cliEnv });
      check(written === writtenOut && read === feat && JSON.parse(feat).age === 52, `Node ${nodeVersion}, npm ${npmVersion}: the embedded store did not store and read quietly:\n${written}${read}`);
      console.log(`  Node ${nodeVersion}, npm ${npmVersion}: installed in ${took} with no compiler and no native addon; the embedded store stores and reads, nothing on stderr`);
    }
  }
}

/** Copies the working tree's tracked and untracked (not ignored) files into `dest`, as its own git repository. */
async function copyWorkingTree(dest) {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root });
  let copied = 0;
  for (const file of stdout.split('\0').filter(Boolean)) {
    const from = join(root, file);
    if (!existsSync(from)) continue; // deleted in the working tree, not yet committed
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(from, join(dest, file));
    copied++;
  }
  const git = (...args) => run('git', ['-c', 'user.name=rehearsal', '-c', 'user.email=rehearsal@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd: dest });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'rehearsal: the working tree');
  return { copied, git };
}

/** The version of every published package in the copy. */
function versionsIn(repo) {
  return Object.fromEntries(publishedPackages().map((p) => [p.name, readJson(join(repo, p.relDir, 'package.json')).version]));
}

function bumpMinor(version) {
  const [major, minor] = version.split('.').map(Number);
  return `${major}.${minor + 1}.0`;
}

async function main() {
  const timings = [];
  const timed = async (title, fn) => {
    step(title);
    const t = Date.now();
    const result = await fn();
    timings.push([title, elapsed(t)]);
    console.log(`  (${elapsed(t)})`);
    return result;
  };

  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const registry = await startRegistry(join(work, 'registry'), await freePort());
  const registryHost = registry.replace(/^http:/, '');
  console.log(`registry ${registry} (storage in ${join(work, 'registry', 'storage')}), Redis ${redis.url}`);

  // npm for the consumers: the @finrisk scope from the throwaway registry, everything else from
  // the usual one; a cache of its own (nothing from this registry stays in ~/.npm); the user's
  // other settings kept (nodedir, cafile).
  const npmCache = join(work, 'npm-cache');
  const scopeFlag = `--@finrisk:registry=${registry}`;
  // Run from `pnpm test`, the environment holds pnpm's script variables (npm_config_* of pnpm's
  // own settings, npm_package_*, npm_lifecycle_*): a user's shell has none of them, and npm warns
  // about the settings it does not know, so they go. The .npmrc files are still read.
  const baseEnv = { ...process.env };
  for (const k of Object.keys(baseEnv)) if (/^(REDIS_|CACHE_|npm_)/i.test(k)) delete baseEnv[k];
  Object.assign(baseEnv, { NO_COLOR: '1', npm_config_cache: npmCache, npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' });
  const npmEnv = baseEnv;
  // No compiler on the operator's PATH: the CLI must install and keep its embedded store without one.
  const noCompilers = pathWithoutCompilers(join(work, 'path-without-compilers'));
  const appEnv = (prefix) => ({ ...baseEnv, REDIS_URL: redis.url, CACHE_BACKEND: 'redis', CACHE_KEY_PREFIX: prefix });

  // The copy of the repository, where versions, changelogs and changesets may change.
  const repo = join(work, 'repo');
  const { copied, git } = await timed('copy of the working tree (its own git repository)', async () => {
    const result = await copyWorkingTree(repo);
    writeFileSync(join(repo, '.npmrc'), `${registryHost}:_authToken=rehearsal-token\n`);
    console.log(`  ${result.copied} files in ${repo}`);
    return result;
  });
  check(copied > 0, 'nothing was copied');
  const repoEnv = { ...baseEnv, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1', DO_NOT_TRACK: '1' };
  await timed('pnpm install in the copy (offline where the store has it)', () =>
    run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=append-only'], { cwd: repo, env: repoEnv }),
  );

  // The registry for `pnpm release` only: changesets asks it what is published, pnpm publishes to it.
  const releaseEnv = { ...repoEnv, npm_config_registry: registry };
  const release = async (label) => {
    await run('pnpm', ['version-packages'], { cwd: repo, env: repoEnv, label: 'pnpm version-packages' });
    const versions = versionsIn(repo);
    // As a maintainer would: the version commit, then the release (changesets tags it).
    await git('add', '-A');
    await git('commit', '-q', '-m', `Version Packages (${label})`);
    const { output } = await run('pnpm', ['release'], { cwd: repo, env: releaseEnv, label: 'pnpm release' });
    for (const [name, version] of Object.entries(versions)) {
      const { stdout: published } = await run('npm', ['view', `${name}@${version}`, 'version', `--registry=${registry}`], { cwd: work, env: baseEnv });
      check(published.trim() === version, `${name}@${version} is not in the registry after pnpm release (npm view says ${JSON.stringify(published.trim())}):\n${tail(output, 30)}`);
    }
    const { stdout: tags } = await git('tag', '--list');
    for (const [name, version] of Object.entries(versions)) check(tags.split('\n').includes(`${name}@${version}`), `changesets did not tag ${name}@${version}`);
    console.log(`  published ${Object.entries(versions).map(([n, v]) => `${n}@${v}`).join(', ')}`);
    return versions;
  };

  const v1 = await timed('release 1: pnpm version-packages, pnpm release', () => release('release 1'));
  const manifest = JSON.parse((await run('npm', ['view', `${CLI}@${v1[CLI]}`, '--json', `--registry=${registry}`], { cwd: work, env: baseEnv })).stdout);
  check(manifest.bin?.['finrisk-cache'], `${CLI}@${v1[CLI]} has no finrisk-cache bin: ${JSON.stringify(manifest.bin)}`);
  check(manifest.optionalDependencies === undefined, `${CLI}: no optional dependency expected (the embedded store is node:sqlite): ${JSON.stringify(manifest.optionalDependencies)}`);
  check(!JSON.stringify(manifest.dependencies ?? {}).includes('workspace:'), `${CLI}: workspace: ranges were published`);

  // An application on release 1: the SDK packages, installed as a team would.
  const install = async (dir, specs, extraArgs = []) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${dir.split('/').pop()}`, private: true, type: 'module' }, null, 2));
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', scopeFlag, ...extraArgs, ...specs], { cwd: dir, env: npmEnv });
  };
  const sdkSpecs = (versions) => ['@finrisk/cache-core', '@finrisk/cache-ml', '@finrisk/cache-frames'].map((n) => `${n}@${versions[n]}`).concat('arquero@8');
  const oldApp = join(work, 'app-release-1');
  await timed(`an application installs cache-core, cache-ml, cache-frames ${JSON.stringify(sdkSpecs(v1))} and runs the guide's API examples`, async () => {
    await install(oldApp, sdkSpecs(v1));
    cpSync(join(root, 'scripts', 'rehearsal', 'guide-api.mjs'), join(oldApp, 'guide-api.mjs'));
    cpSync(join(root, 'apps', 'finrisk-cache', 'examples', 'data'), join(oldApp, 'data'), { recursive: true });
    const { output } = await run(process.execPath, ['guide-api.mjs'], { cwd: oldApp, env: appEnv('rehearsal-guide-api'), timeoutMs: 120_000 });
    console.log(tail(output, 12));
    check(output.includes('guide API examples: ok'), 'the guide API examples did not finish');
  });

  // The operator: `npm i -g` of the CLI, with no compiler on the PATH.
  const globalPrefix = join(work, 'global');
  const globalBin = join(globalPrefix, 'bin');
  const cliEnv = (extra) => ({ ...baseEnv, PATH: `${globalBin}${delimiter}${process.env.PATH}`, ...extra });
  await timed(`npm i -g ${CLI}@${v1[CLI]} (no compiler on the PATH), then every example of the guide with that finrisk-cache`, async () => {
    await run('npm', ['install', '--global', `--prefix=${globalPrefix}`, '--no-audit', '--no-fund', '--loglevel=error', scopeFlag, `${CLI}@${v1[CLI]}`], {
      cwd: work,
      env: { ...npmEnv, PATH: `${dirname(process.execPath)}${delimiter}${noCompilers}` },
    });
    check(existsSync(join(globalBin, 'finrisk-cache')), `npm i -g put no finrisk-cache in ${globalBin}`);
    const addons = nativeAddons(globalPrefix);
    check(addons.length === 0, `npm i -g installed native addons:\n${addons.join('\n')}`);
    const { stdout: which } = await run('/bin/sh', ['-c', 'command -v finrisk-cache && finrisk-cache --version'], { cwd: work, env: cliEnv({}) });
    check(which.startsWith(join(globalBin, 'finrisk-cache')) && which.includes(v1[CLI]), `finrisk-cache on the PATH is not the global one at ${v1[CLI]}:\n${which}`);
    const ws = prepareWorkspace([join(globalBin, 'finrisk-cache')]);
    cleanups.push(() => rmSync(ws.root, { recursive: true, force: true }));
    const env = cliEnv({ REDIS_URL: redis.url, CACHE_KEY_PREFIX: 'rehearsal-cli', HOME: ws.root, XDG_CACHE_HOME: join(ws.root, 'xdg') });
    const lines = readGuideExamples();
    const outputs = new Map();
    for (const line of lines) {
      const r = await runLine(line, { cwd: ws.cwd, bin: globalBin, env });
      check(r.code === 0 && r.stderr === '', `${line}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      if (!outputs.has(line)) outputs.set(line, r.stdout);
    }
    check(JSON.parse(outputs.get('finrisk-cache get-pred CUST001 credit')).risk_score === 0.75, 'get-pred did not print the cached prediction');
    check(outputs.get('finrisk-cache get-df customer_data').includes('customer_data: 8 rows x 8 columns'), 'get-df did not show the table');
    check(/^Hit Rate\s+\d+\.\d\d%\n$/.test(outputs.get('finrisk-cache stats | grep "Hit Rate"')), 'stats | grep "Hit Rate" printed no hit rate');
    check(readFileSync(join(ws.cwd, 'customers_export.csv'), 'utf8') === readFileSync(join(ws.cwd, 'data', 'customers.csv'), 'utf8'), 'get-df --output wrote another table');
    console.log(`  ${lines.length} examples of the guide: exit 0, nothing on stderr`);

    // The embedded store: node:sqlite, nothing installed for it.
    const local = { ...env, CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(ws.root, 'local.db') };
    const { output: written, stdout: writtenOut } = await run('finrisk-cache', ['cache-feat', 'CUST009', '{"age": 41}'], { cwd: ws.cwd, env: local });
    check(written === writtenOut, `cache-feat on the embedded store wrote to stderr:\n${written}`);
    const { stdout: feat, output: read } = await run('finrisk-cache', ['get-feat', 'CUST009'], { cwd: ws.cwd, env: local });
    check(JSON.parse(feat).age === 41 && existsSync(join(ws.root, 'local.db')), `the embedded store did not keep the value:\n${feat}`);
    check(read === feat, `get-feat on the embedded store wrote to stderr:\n${read}`);
    const down = { ...env, REDIS_URL: `redis://127.0.0.1:${await freePort()}`, CACHE_LOCAL_PATH: join(ws.root, 'auto.db') };
    const { output: fellBack } = await run('finrisk-cache', ['cache-pred', 'CUST009', 'credit', '{"risk_score": 0.5}'], { cwd: ws.cwd, env: down });
    check(/using the embedded store at /.test(fellBack), `auto with Redis down should use the embedded store:\n${fellBack}`);
    console.log('  the embedded store works (CACHE_BACKEND=local, and auto with Redis down)');
  });

  await timed(`npm i -g ${CLI}@${v1[CLI]} with npm 11 and npm 12, no compiler on the PATH: the embedded store on every Node`, () =>
    globalInstallMatrix({ version: v1[CLI], registry, scopeFlag, env: npmEnv, noCompilers }),
  );

  // npx, without optional dependencies: there are none the embedded store needs.
  await timed(`npx ${CLI} check (optional dependencies left out)`, async () => {
    const dir = join(work, 'npx');
    mkdirSync(dir);
    const npxEnv = { ...npmEnv, npm_config_omit: 'optional', npm_config_cache: join(work, 'npx-cache'), HOME: dir, XDG_CACHE_HOME: join(dir, 'xdg') };
    const npx = (args, extra = {}, allowFailure = false) => run('npx', ['--yes', scopeFlag, CLI, ...args], { cwd: dir, env: { ...npxEnv, ...extra }, allowFailure });
    const { stdout: ok } = await npx(['check'], { REDIS_URL: redis.url });
    check(/^OK {2}Redis at /m.test(ok), `npx ${CLI} check did not answer OK:\n${ok}`);
    const { stdout: version } = await npx(['--version']);
    check(version.trim().endsWith(v1[CLI]), `npx ran another version: ${version}`);
    const local = { CACHE_BACKEND: 'local', CACHE_LOCAL_PATH: join(dir, 'local.db') };
    const stored = await npx(['cache-feat', 'CUST001', '{"age": 35}'], local, true);
    // npx may say on stderr what it installed; the CLI's own stderr must not warn about SQLite.
    check(stored.status === 0 && !/Warning|SQLite/.test(stored.output), `CACHE_BACKEND=local: exit ${stored.status}\n${stored.output}`);
    const { stdout: feat } = await npx(['get-feat', 'CUST001'], local);
    check(JSON.parse(feat).age === 35, `CACHE_BACKEND=local did not keep the value:\n${feat}`);
    const fellBack = await npx(['cache-feat', 'CUST001', '{"age": 35}'], { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, CACHE_LOCAL_PATH: join(dir, 'auto.db') }, true);
    check(fellBack.status === 0 && /using the embedded store at /.test(fellBack.output), `auto with Redis down: exit ${fellBack.status}\n${fellBack.output}`);
    console.log('  check: OK; CACHE_BACKEND=local stores and reads; auto with Redis down: the embedded store, and says so');
  });

  // Release 2: a minor, from a changeset written here.
  const v2 = await timed(`release 2: a changeset with a minor of ${MINOR.join(' and ')}, pnpm version-packages, pnpm release`, async () => {
    writeFileSync(
      join(repo, '.changeset', 'rehearsal-minor.md'),
      `---\n${MINOR.map((n) => `"${n}": minor`).join('\n')}\n---\n\nRehearsal: a minor release, to check that it reads what the previous release wrote, and the other way round.\n`,
    );
    await git('add', '-A');
    await git('commit', '-q', '-m', 'rehearsal: a minor changeset');
    const versions = await release('release 2');
    for (const name of MINOR) check(versions[name] === bumpMinor(v1[name]), `${name}: a minor changeset gave ${v1[name]} -> ${versions[name]}, not ${bumpMinor(v1[name])}`);
    check(versions['@finrisk/cache-core'] === v1['@finrisk/cache-core'], 'cache-core changed version without a changeset');
    const changelog = readFileSync(join(repo, 'packages', 'cache-ml', 'CHANGELOG.md'), 'utf8');
    check(changelog.includes(`## ${versions['@finrisk/cache-ml']}`) && changelog.includes('Rehearsal: a minor release'), 'cache-ml CHANGELOG.md has no entry for the minor');
    return versions;
  });

  const newApp = join(work, 'app-release-2');
  await timed('rolling deploy: release 1 and release 2 read each other\'s entries from one Redis', async () => {
    await install(newApp, sdkSpecs(v2));
    for (const dir of [oldApp, newApp]) cpSync(join(root, 'scripts', 'rehearsal', 'rolling-deploy.mjs'), join(dir, 'rolling-deploy.mjs'));
    const env = appEnv('rehearsal-rolling');
    const side = async (dir, mode, tag) => {
      const { output } = await run(process.execPath, ['rolling-deploy.mjs', mode, tag], { cwd: dir, env, timeoutMs: 120_000 });
      console.log(`  release ${dir === oldApp ? 1 : 2}, ${mode} ${tag}: ${output.trim().split('\n').pop()}`);
    };
    await side(oldApp, 'write', 'old');
    await side(newApp, 'write', 'new');
    await side(newApp, 'read', 'old');
    await side(oldApp, 'read', 'new');
    await side(oldApp, 'invalidated', 'old');
    await side(newApp, 'invalidated', 'new');
    // The operator's CLI of release 1 reads what release 2 wrote.
    const cli = cliEnv({ REDIS_URL: redis.url, CACHE_KEY_PREFIX: 'rehearsal-rolling' });
    const { stdout: pred } = await run('finrisk-cache', ['get-pred', 'new-CUST001', 'credit'], { cwd: work, env: cli });
    check(JSON.parse(pred).customer === 'new-CUST001', `the release-1 CLI did not read release 2's prediction:\n${pred}`);
    const { stdout: df } = await run('finrisk-cache', ['get-df', 'new-frame'], { cwd: work, env: cli });
    check(/^new-frame: 20,?000 rows x 4 columns$/m.test(df), `the release-1 CLI did not read release 2's frame:\n${tail(df, 5)}`);
    console.log(`  finrisk-cache ${v1[CLI]} reads release 2's prediction and frame`);
  });

  console.log(`\nrelease:rehearse: passed in ${elapsed()}`);
  for (const [title, took] of timings) console.log(`  ${took.padStart(8)}  ${title}`);
}

let failed = false;
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) killTree(child);
  for (const fn of cleanups.reverse()) {
    try {
      fn();
    } catch {
      // keep cleaning up
    }
  }
  if (process.env.KEEP_REHEARSAL_DIR) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true, maxRetries: 3 });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`\nrelease:rehearse: ${signal}, cleaning up\n`);
    cleanup();
    process.exit(130);
  });
}
process.once('exit', cleanup);

try {
  await main();
} catch (error) {
  failed = true;
  process.stderr.write(`\nrelease:rehearse FAILED after ${elapsed()}: ${error instanceof Error ? error.message : String(error)}\n`);
  if (!process.env.KEEP_REHEARSAL_DIR) process.stderr.write('(the logs are removed with the folder; KEEP_REHEARSAL_DIR=1 keeps them)\n');
} finally {
  cleanup();
}
process.exit(failed ? 1 : 0);
