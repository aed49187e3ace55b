import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { base } from '../../tsup.base.mjs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// The version is written into the build, so that bundles and single executables (which carry no
// package.json) print the version `changeset version` gave the package.
export default defineConfig({ ...base, entry: ['src/index.ts'], define: { __FINRISK_CLI_VERSION__: JSON.stringify(version) } });
