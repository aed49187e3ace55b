import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { base } from '../../tsup.base.mjs';
import { readDashboardAssetFiles } from './src/dashboard/asset-files.ts';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// The version is written into the build, so that bundles and single executables (which carry no
// package.json) print the version `changeset version` gave the package; the dashboard's page and
// uPlot likewise, so that they serve it without files. Splitting keeps the dashboard (its code
// and those strings) in a chunk of its own, which only `finrisk-cache dashboard` loads. Two
// entries: the library (index) and the `finrisk-cache` bin, which share one chunk of CLI code.
export default defineConfig({
  ...base,
  entry: ['src/index.ts', 'src/bin.ts'],
  splitting: true,
  define: { __FINRISK_CLI_VERSION__: JSON.stringify(version), __FINRISK_DASHBOARD_ASSETS__: JSON.stringify(JSON.stringify(readDashboardAssetFiles())) },
});
