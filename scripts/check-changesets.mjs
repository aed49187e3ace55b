#!/usr/bin/env node
// Fails when a published package changed without a changeset saying how it will be released.
//
// Which changes count: files under packages/<name>/ except tests (*.test.ts, test/), bench/,
// vitest configs and the CHANGELOG (written by `pnpm version-packages`). Private packages and apps
// are never released (see .changeset/config.json) and are not checked.
//
// Against what (the base), two modes:
// - CHANGESET_BASE=<ref> (a pull request: the target branch, e.g. origin/main): the base is
//   `git merge-base HEAD <ref>`, and every published package changed since it must be named by a
//   changeset ADDED OR EDITED since it. An empty changeset (`pnpm changeset --empty`) says
//   "no release needed" and satisfies the check.
// - No CHANGESET_BASE (CI on a fresh clone of main, or locally): for each published package the
//   base is its last release, i.e. the last commit that touched its CHANGELOG.md (written only by
//   `pnpm version-packages`), or the start of history when it was never released. Every package
//   changed since its last release must have a changeset pending in .changeset/. So main can never
//   hold a change that the next `pnpm release` would not publish.
// Both need full history (`git clone` without --depth, `fetch-depth: 0` on GitHub Actions).
//
// API changes: when a package's API report (packages/<name>/api/*.api.md, see api-report.mjs)
// changed since the base, every exported name whose declaration changed must be named in one of
// the package's changesets, so that the release notes say what changed in the contract. A
// package that had no report at the base (never released) is exempt: its first release
// introduces the whole API.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishedPackages, root } from './lib/workspace.mjs';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const lines = (s) => s.split('\n').filter(Boolean);

function fail(message) {
  process.stderr.write(`check-changesets: ${message}\n`);
  process.exit(1);
}

/** Package names and bump types in a changeset file; an empty object for an empty changeset. */
function parseChangeset(file) {
  const text = readFileSync(join(root, file), 'utf8');
  const m = /^---\r?\n([\s\S]*?)\r?\n?---/.exec(text);
  if (!m) fail(`${file} has no front matter (--- "@scope/name": patch ---); create changesets with pnpm changeset`);
  const bumps = {};
  for (const line of lines(m[1])) {
    const entry = /^\s*["']?([^"':]+?)["']?\s*:\s*(major|minor|patch|none)\s*$/.exec(line);
    if (!entry) fail(`${file}: cannot read the line ${JSON.stringify(line)} (expected "@scope/name": major|minor|patch)`);
    bumps[entry[1]] = entry[2];
  }
  return bumps;
}

/** The text a changeset gives users (after its front matter). */
function changesetText(file) {
  return readFileSync(join(root, file), 'utf8').replace(/^---\r?\n[\s\S]*?\r?\n?---/, '');
}

/**
 * The declarations of an API report (packages/<name>/api/*.api.md, written by API Extractor),
 * by exported name: each `// @public` (or other release tag) block with its `export ...` line.
 */
function apiDeclarations(report) {
  const declarations = new Map();
  let name;
  for (const line of report.split('\n')) {
    const tag = /^\/\/ @\w+/.test(line);
    const exported = /^export (?:declare )?(?:abstract )?(?:class|interface|type|function|const|let|enum|namespace) ([A-Za-z_$][\w$]*)/.exec(line);
    if (exported) {
      name = exported[1];
      declarations.set(name, `${declarations.get(name) ?? ''}${line}\n`);
    } else if (tag || line.startsWith('// (No @packageDocumentation') || line === '```') name = undefined;
    else if (name !== undefined) declarations.set(name, `${declarations.get(name)}${line}\n`);
  }
  return declarations;
}

/**
 * The exported names whose declarations differ between the report at `base` and now (added,
 * removed or changed), for every entry point of a package; none when the package had no report
 * at `base` (its first release introduces the whole API).
 */
function apiChanges(base, pkgDir) {
  const changed = [];
  for (const file of lines(git('ls-files', '--', `${pkgDir}/api`)).filter((f) => f.endsWith('.api.md'))) {
    let before;
    try {
      before = git('show', `${base}:${file}`);
    } catch {
      continue;
    }
    const was = apiDeclarations(before);
    const is = apiDeclarations(readFileSync(join(root, file), 'utf8'));
    for (const name of new Set([...was.keys(), ...is.keys()])) if (was.get(name) !== is.get(name)) changed.push(name);
  }
  return [...new Set(changed)].sort();
}

/** Changed files (committed since `base`, plus uncommitted and untracked ones) under `dir`. */
function changedFiles(base, dir) {
  const files = new Set([
    ...lines(git('diff', '--name-only', base, '--', dir)),
    ...lines(git('ls-files', '--others', '--exclude-standard', '--', dir)),
  ]);
  return [...files].filter((f) => !/(\.test\.[cm]?[jt]s$|\/test\/|\/bench\/|\/vitest\.config\.[cm]?[jt]s$|\/CHANGELOG\.md$)/.test(f));
}

if (git('rev-parse', '--is-shallow-repository') === 'true') {
  fail('this clone is shallow: the check needs the history (git fetch --unshallow, or fetch-depth: 0 in CI)');
}

const packages = publishedPackages();
const names = new Set(packages.map((p) => p.name));
const pending = readdirSync(join(root, '.changeset'))
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .map((f) => `.changeset/${f}`);
for (const file of pending) {
  for (const name of Object.keys(parseChangeset(file))) {
    if (!names.has(name)) fail(`${file} names ${name}, which is not a published package (${[...names].join(', ')})`);
  }
}

const baseRef = process.env.CHANGESET_BASE;
const missing = [];
const unnamedApi = [];
if (baseRef) {
  let base;
  try {
    base = git('merge-base', 'HEAD', baseRef);
  } catch {
    fail(`CHANGESET_BASE=${baseRef} has no merge-base with HEAD: fetch it first (git fetch origin main) and use a ref this clone knows (origin/main)`);
  }
  const touched = new Set([...lines(git('diff', '--name-only', base, '--', '.changeset')), ...lines(git('ls-files', '--others', '--exclude-standard', '--', '.changeset'))]);
  const added = pending.filter((f) => touched.has(f));
  const covered = new Set(added.flatMap((f) => Object.keys(parseChangeset(f))));
  const hasEmpty = added.some((f) => Object.keys(parseChangeset(f)).length === 0);
  console.log(`base: merge-base of HEAD and ${baseRef} (${base.slice(0, 12)}); changesets added since: ${added.length ? added.join(', ') : 'none'}`);
  for (const p of packages) {
    const files = changedFiles(base, p.relDir);
    if (files.length === 0) continue;
    if (covered.has(p.name)) console.log(`  ok   ${p.name}: ${files.length} file(s) changed, changeset present`);
    else if (hasEmpty) console.log(`  ok   ${p.name}: ${files.length} file(s) changed, an empty changeset says no release is needed`);
    else missing.push({ p, files, since: `since ${baseRef}` });
    checkApiNamed(p, base, added);
  }
} else {
  const covered = new Set(pending.flatMap((f) => Object.keys(parseChangeset(f))));
  console.log(`base: each package's last release (last commit touching its CHANGELOG.md); pending changesets: ${pending.length ? pending.join(', ') : 'none'}`);
  for (const p of packages) {
    const lastRelease = git('log', '-1', '--format=%H', '--', `${p.relDir}/CHANGELOG.md`);
    const files = changedFiles(lastRelease || EMPTY_TREE, p.relDir);
    const since = lastRelease ? `since its last release (${lastRelease.slice(0, 12)})` : 'and it was never released';
    // Between `pnpm version-packages` and its commit the changesets are gone and the changelog is new.
    const releasing = git('status', '--porcelain', '--', `${p.relDir}/CHANGELOG.md`) !== '';
    if (files.length === 0) console.log(`  ok   ${p.name}: unchanged ${since}`);
    else if (releasing) console.log(`  ok   ${p.name}: being released (CHANGELOG.md not committed yet)`);
    else if (covered.has(p.name)) console.log(`  ok   ${p.name}: ${files.length} file(s) changed ${since}, changeset pending`);
    else missing.push({ p, files, since });
    if (!releasing) checkApiNamed(p, lastRelease || EMPTY_TREE, pending);
  }
}

/**
 * An API change must be named in the release notes: every exported name whose declaration in the
 * package's API report changed since `base` must appear in a changeset for the package.
 */
function checkApiNamed(p, base, changesets) {
  const changes = apiChanges(base, p.relDir);
  if (changes.length === 0) return;
  const text = changesets.filter((f) => p.name in parseChangeset(f)).map(changesetText).join('\n');
  const unnamed = changes.filter((name) => !new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`).test(text));
  if (unnamed.length === 0) console.log(`  ok   ${p.name}: API changes (${changes.join(', ')}) named in its changesets`);
  else unnamedApi.push({ p, unnamed });
}

if (unnamedApi.length > 0) {
  for (const { p, unnamed } of unnamedApi) {
    process.stderr.write(`  UNNAMED ${p.name}: the public API of ${unnamed.join(', ')} changed (packages/${p.relDir.split('/').pop()}/api/) and no changeset for it names them\n`);
  }
  if (missing.length === 0) fail('say in the changeset what changed in the API, by name (the release notes are made from it)');
}
if (missing.length > 0) {
  for (const { p, files, since } of missing) {
    process.stderr.write(`  MISSING ${p.name}: ${files.length} file(s) changed ${since} and no changeset names it, e.g. ${files.slice(0, 3).join(', ')}\n`);
  }
  fail('run `pnpm changeset`, pick the package(s) and the bump (patch: fixes; minor: additions; major: breaking), describe the change for users, and commit the .changeset/*.md file');
}
console.log('check-changesets: every changed published package has a changeset');
