import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page's own files, in `page/` next to this file. */
export const PAGE_FILES = ['index.html', 'page.js', 'page.css', 'favicon.svg'] as const;
/** uPlot's files, from its npm package. */
export const UPLOT_FILES = ['uPlot.iife.min.js', 'uPlot.min.css'] as const;

/**
 * Reads every file the page needs, by name: the page's own and uPlot's (the script with uPlot's
 * MIT licence in front of it, as the licence asks of copies). The build (tsup.config.ts) embeds
 * the result in the package as a string table, so that the dashboard, the single-file bundle and
 * the single executable serve the page without files or a CDN; runs from source read the files.
 */
export function readDashboardAssetFiles(): Record<string, string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
  const files: Record<string, string> = {};
  for (const name of PAGE_FILES) files[name] = readFileSync(join(here, 'page', name), 'utf8');
  const license = readFileSync(join(uplot, 'LICENSE'), 'utf8').trim();
  files['uPlot.iife.min.js'] = `/*! uPlot, ${license.replace(/\*\//g, '* /')} */\n${readFileSync(join(uplot, 'dist', 'uPlot.iife.min.js'), 'utf8')}`;
  files['uPlot.min.css'] = readFileSync(join(uplot, 'dist', 'uPlot.min.css'), 'utf8');
  return files;
}
