import type { CommandDefinition } from '../command-definition.js';
import { checkCommand } from './check.js';
import { configCommand } from './config.js';
import { monitorCommand } from './monitor.js';
import { statsCommand } from './stats.js';

/** Every built-in command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandDefinition[] = [checkCommand, configCommand, statsCommand, monitorCommand];
