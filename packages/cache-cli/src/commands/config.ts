import { describeSettings, type CacheConfig } from '@finrisk/cache-core';
import type { CommandDefinition } from '../command-definition.js';
import { formatTable } from '../output/table.js';

/** One row of `config`: the variable, its value as shown, and where it came from. */
export interface ConfigRow {
  variable: string;
  /** Name of the setting in the library's options (`ttl.prediction` for TTLs). */
  setting: string;
  /** The value as text; secrets are masked, unset values are null. */
  value: string | null;
  /** default, .env, environment or flag. */
  source: 'default' | '.env' | 'environment' | 'flag';
}

/** Every setting of a resolved configuration, in the settings table's order, secrets masked. */
export function configRows(config: CacheConfig): ConfigRow[] {
  return describeSettings(config).map((row) => ({
    variable: row.variable,
    setting: row.name,
    value: row.value,
    // The CLI's options are its flags.
    source: row.source === 'option' ? 'flag' : row.source,
  }));
}

/** `config`: every setting, its value and where it came from, without connecting. */
export const configCommand: CommandDefinition = {
  name: 'config',
  summary: 'show every setting and where it came from (default, .env, environment, flag)',
  description:
    'Shows the configuration the other commands use: every setting, its value and its source ' +
    '(default, .env, environment or flag), with the password masked. It does not connect. ' +
    'An invalid value exits 2 naming the variable. The CLI always reports backend failures, whatever CACHE_STRICT says.',
  examples: ['finrisk-cache config', 'finrisk-cache config --port 6380', 'finrisk-cache config --json'],
  async run(ctx) {
    const config = ctx.config();
    const rows = configRows(config);
    ctx.out.result({ envFile: config.envFile ?? null, settings: rows }, () => {
      const c = ctx.out.colors;
      const table = formatTable(
        rows.map((r) => [r.variable, r.value ?? c.dim('(not set)'), r.source === 'default' ? c.dim(r.source) : c.cyan(r.source)]),
        { header: ['Setting', 'Value', 'Source'] },
      );
      return `${table}\n\n.env file: ${config.envFile ?? c.dim(`(none in ${ctx.io.cwd})`)}`;
    });
  },
};
