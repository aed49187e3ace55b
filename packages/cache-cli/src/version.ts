import { readFileSync } from 'node:fs';

declare const __FINRISK_CLI_VERSION__: string | undefined;

/** Version of @finrisk/cache-cli, printed by `finrisk-cache --version`: set by the build, read from package.json when running from source. */
export const VERSION: string =
  typeof __FINRISK_CLI_VERSION__ === 'string'
    ? __FINRISK_CLI_VERSION__
    : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
