// Helpers shared by the root check scripts: where the repository is and what it publishes.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The packages that are published: every `packages/*` whose package.json is not private.
 * @returns {{ name: string, dir: string, relDir: string, pkg: Record<string, any> }[]}
 */
export function publishedPackages() {
  const base = join(root, 'packages');
  return readdirSync(base)
    .filter((d) => existsSync(join(base, d, 'package.json')))
    .map((d) => {
      const pkg = JSON.parse(readFileSync(join(base, d, 'package.json'), 'utf8'));
      return { name: pkg.name, dir: join(base, d), relDir: `packages/${d}`, pkg };
    })
    .filter((p) => p.pkg.private !== true)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Prints a section title. */
export function step(title) {
  process.stdout.write(`\n== ${title}\n`);
}
