import type { CommandDefinition } from '../command-definition.js';
import { cacheDfCommand } from './cache-df.js';
import { cacheFeatCommand } from './cache-feat.js';
import { cachePredCommand } from './cache-pred.js';
import { checkCommand } from './check.js';
import { clearFeatCommand } from './clear-feat.js';
import { clearModelCommand } from './clear-model.js';
import { clearPredCommand } from './clear-pred.js';
import { configCommand } from './config.js';
import { dashboardCommand } from './dashboard.js';
import { deleteDfCommand } from './delete-df.js';
import { getDfCommand } from './get-df.js';
import { getFeatCommand } from './get-feat.js';
import { getPredCommand } from './get-pred.js';
import { infoDfCommand } from './info-df.js';
import { inspectCommand } from './inspect.js';
import { listDfCommand } from './list-df.js';
import { monitorCommand } from './monitor.js';
import { statsCommand } from './stats.js';
import { updateFeatCommand } from './update-feat.js';

/** Every built-in command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandDefinition[] = [
  checkCommand,
  configCommand,
  statsCommand,
  monitorCommand,
  dashboardCommand,
  cachePredCommand,
  getPredCommand,
  cacheFeatCommand,
  updateFeatCommand,
  getFeatCommand,
  inspectCommand,
  cacheDfCommand,
  getDfCommand,
  listDfCommand,
  infoDfCommand,
  deleteDfCommand,
  clearModelCommand,
  clearPredCommand,
  clearFeatCommand,
];
