import { readDashboardAssetFiles } from './asset-files.js';

/** The asset table as JSON text, set by the build (a string, so that it is inlined where it is used: in the dashboard's chunk). */
declare const __FINRISK_DASHBOARD_ASSETS__: string | undefined;

/** A file the dashboard serves. */
export interface DashboardAsset {
  body: Buffer;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

let assets: ReadonlyMap<string, DashboardAsset> | undefined;

/**
 * The page, its script and styles and uPlot, by file name: embedded by the build (so that the
 * bundle and the single executable carry them), read from the files when running from source.
 */
export function dashboardAssets(): ReadonlyMap<string, DashboardAsset> {
  if (assets) return assets;
  const files = typeof __FINRISK_DASHBOARD_ASSETS__ === 'string' ? (JSON.parse(__FINRISK_DASHBOARD_ASSETS__) as Record<string, string>) : readDashboardAssetFiles();
  assets = new Map(
    Object.entries(files).map(([name, text]) => [name, { body: Buffer.from(text, 'utf8'), contentType: CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream' }]),
  );
  return assets;
}
