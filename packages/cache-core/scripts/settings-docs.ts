// Writes the settings tables of the READMEs from the settings table (`pnpm docs:settings`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS_READMES, withSettingsTable } from '../src/settings-docs.js';

const root = join(import.meta.dirname, '..', '..', '..');
for (const { path, audience } of SETTINGS_READMES) {
  const file = join(root, path);
  const before = readFileSync(file, 'utf8');
  const after = withSettingsTable(before, audience);
  if (after !== before) writeFileSync(file, after);
  console.log(`${path}: ${after === before ? 'up to date' : 'written'}`);
}
