#!/usr/bin/env node
/**
 * Builds the downloadable `finrisk-cache` for the platform this runs on: the single executable
 * (scripts/sea.mjs, with the Node that runs this script inside it, embedded store included), in
 * one archive with its SHA-256 checksum. The release workflow (.github/workflows/release-binaries.yml) runs it on
 * each platform's runner; `pnpm test` runs it here (test/standalone.integration.test.ts).
 *
 *   dist/release/finrisk-cache-<version>-<platform>.tar.gz   (.zip on Windows), holding
 *     finrisk-cache-<version>-<platform>/finrisk-cache        (finrisk-cache.exe on Windows)
 *   dist/release/finrisk-cache-<version>-<platform>.tar.gz.sha256   (`sha256sum -c` reads it)
 *
 * <version> is @finrisk/cache-cli's; <platform> is linux-x64, linux-arm64, macos-arm64,
 * windows-x64 (or whatever os-arch this is).
 *
 * Usage: node scripts/release-archive.mjs   (after `pnpm --filter @finrisk/finrisk-cache-app... build`)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliVersion } from './bundle.mjs';
import { buildSea, seaDir } from './sea.mjs';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where archives and checksums are written. */
export const releaseDir = join(app, 'dist', 'release');

/** The platform part of the archive's name: linux-x64, linux-arm64, macos-arm64, windows-x64, ... */
export function platformName(platform = process.platform, arch = process.arch) {
  const os = { darwin: 'macos', win32: 'windows' }[platform] ?? platform;
  return `${os}-${arch}`;
}

/** The `sha256sum` line of a file: `<hex>  <name>`. */
export function checksumLine(file) {
  return `${createHash('sha256').update(readFileSync(file)).digest('hex')}  ${basename(file)}\n`;
}

/**
 * Builds the single executable and packs it: returns the archive's path, its checksum file's path,
 * and the name of the folder inside the archive.
 */
export async function buildReleaseArchive() {
  await buildSea();
  const name = `finrisk-cache-${cliVersion()}-${platformName()}`;
  rmSync(releaseDir, { recursive: true, force: true });
  const staging = join(releaseDir, 'staging');
  cpSync(seaDir, join(staging, name), { recursive: true });
  const windows = process.platform === 'win32';
  const archive = join(releaseDir, `${name}${windows ? '.zip' : '.tar.gz'}`);
  if (windows) {
    // Windows' own bsdtar writes zip archives (-a picks the format from the extension); a GNU tar
    // earlier on the PATH (Git's) cannot.
    execFileSync(join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'tar.exe'), ['-a', '-c', '-f', archive, '-C', staging, name]);
  } else {
    execFileSync('tar', ['-czf', archive, '-C', staging, name]);
  }
  rmSync(staging, { recursive: true, force: true });
  const checksum = `${archive}.sha256`;
  writeFileSync(checksum, checksumLine(archive));
  return { archive, checksum, folder: name };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { archive, checksum } = await buildReleaseArchive();
  console.log(`release: ${archive}\n${readFileSync(checksum, 'utf8').trim()}`);
}
