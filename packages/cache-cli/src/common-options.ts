import type { CommandOption } from './command-definition.js';
import { integerIn } from './option-parsers.js';

/** `--ttl <SECONDS>` of the write commands. */
export const TTL_OPTION: CommandOption = {
  flags: '--ttl <SECONDS>',
  description: "time to live in seconds (default: the kind's TTL from CACHE_*_TTL)",
  parse: integerIn(1, 315_360_000, '--ttl'),
};

/** `--dry-run` of the clear commands. */
export const DRY_RUN_OPTION: CommandOption = {
  flags: '--dry-run',
  description: 'count the keys that would be deleted, delete nothing',
};
