#!/usr/bin/env node
// The public API of every published package, as a reviewed contract: API Extractor writes one
// report per entry point (packages/<name>/api/<entry>.api.md) from the built declarations.
//
//   node scripts/api-report.mjs          check: fails when a package's API differs from its
//                                         committed report (pnpm test runs this)
//   node scripts/api-report.mjs --update  writes the reports (pnpm api:update), to commit with
//                                         the change and a changeset naming what changed
//
// Needs the packages built (pnpm build). A type that a public signature uses but the main entry
// point does not export (ae-forgotten-export) is an error: users could not name it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { publishedPackages, root } from './lib/workspace.mjs';

const update = process.argv.includes('--update');

/** Every entry point of a package with types: `.` as `index`, `./prometheus` as `prometheus`. */
function entryPoints(pkg) {
  return Object.entries(pkg.pkg.exports ?? {})
    .filter(([, target]) => typeof target === 'object' && target.types)
    .map(([path, target]) => ({ name: path === '.' ? 'index' : path.replace(/^\.\//, '').replaceAll('/', '-'), types: join(pkg.dir, target.types) }));
}

const scratch = join(tmpdir(), `finrisk-api-report-${process.pid}`);
mkdirSync(scratch, { recursive: true });
const problems = [];
try {
  for (const pkg of publishedPackages()) {
    for (const entry of entryPoints(pkg)) {
      if (!existsSync(entry.types)) {
        problems.push(`${pkg.name}: ${entry.types} is missing; run pnpm build first`);
        continue;
      }
      const reportFolder = join(pkg.dir, 'api');
      const reportName = `${entry.name}.api.md`;
      mkdirSync(reportFolder, { recursive: true });
      const config = ExtractorConfig.prepare({
        configObject: {
          projectFolder: pkg.dir,
          mainEntryPointFilePath: entry.types,
          compiler: {
            overrideTsconfig: {
              compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2024'], types: ['node'], skipLibCheck: true, strict: true },
            },
          },
          apiReport: { enabled: true, reportFileName: reportName, reportFolder, reportTempFolder: join(scratch, pkg.pkg.name.replace('/', '-')) },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          messages: {
            compilerMessageReporting: { default: { logLevel: 'warning' } },
            extractorMessageReporting: {
              default: { logLevel: 'none' },
              // A subpath entry (cache-core/prometheus) takes types its package's main entry
              // exports (Cache): noted in its report, not an error.
              'ae-forgotten-export': entry.name === 'index' ? { logLevel: 'error', addToApiReportFile: false } : { logLevel: 'none', addToApiReportFile: true },
              'ae-missing-release-tag': { logLevel: 'none' },
            },
            tsdocMessageReporting: { default: { logLevel: 'none' } },
          },
        },
        configObjectFullPath: join(pkg.dir, 'api-extractor.json'),
        packageJsonFullPath: join(pkg.dir, 'package.json'),
      });
      const before = existsSync(join(reportFolder, reportName)) ? readFileSync(join(reportFolder, reportName), 'utf8') : undefined;
      const result = Extractor.invoke(config, {
        localBuild: update,
        showVerboseMessages: false,
        messageCallback: (message) => {
          if (message.logLevel === 'error') problems.push(`${pkg.name} (${entry.name}): ${message.text}${message.sourceFilePath ? ` (${message.sourceFilePath})` : ''}`);
          message.handled = message.logLevel !== 'error';
        },
      });
      const label = `${pkg.name}${entry.name === 'index' ? '' : `/${entry.name}`}`;
      if (update) {
        const after = readFileSync(join(reportFolder, reportName), 'utf8');
        console.log(`  ${after === before ? 'unchanged' : 'written  '} ${label}: ${join(pkg.relDir, 'api', reportName)}`);
      } else if (result.apiReportChanged) {
        problems.push(
          `${label}: the public API differs from ${join(pkg.relDir, 'api', reportName)}. If the change is meant, run pnpm api:update, ` +
            'review the report, and commit it with a changeset that names what changed',
        );
      } else {
        console.log(`  ok ${label}`);
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`  PROBLEM ${p}\n`);
  process.stderr.write(`api-report: ${problems.length} problem(s)\n`);
  process.exit(1);
}
console.log(update ? 'api-report: reports written' : 'api-report: every package matches its API report');
