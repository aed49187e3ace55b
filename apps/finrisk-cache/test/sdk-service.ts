import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runBinary, type BinaryResult } from './run-binary.js';

/** One step of a service's work, done through the SDK (cache-ml on cache-core). */
export type ServiceStep =
  | { op: 'pred-write'; customer: string; model: string; value?: Record<string, unknown> }
  | { op: 'pred-read'; customer: string; model: string }
  | { op: 'feat-write'; customer: string; features: Record<string, unknown> }
  | { op: 'feat-read'; customer: string }
  | { op: 'artifact-write'; model: string; version: string }
  /** With CACHE_L1_MAX_MB: wait until L1 serves and has heard every change so far. */
  | { op: 'l1-ready' }
  /** `seconds` of prediction and feature traffic where about `hitShare` of the reads hit (for screenshots). */
  | { op: 'workload'; seconds: number; model: string; hitShare: number; pauseMs?: number };

const app = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/sdk-service.mjs', import.meta.url));

/** The built SDK packages, as file URLs, found through the app's dependency on cache-cli (the app depends on nothing else). */
function sdkUrls(): Record<string, string> {
  const cli = realpathSync(join(app, 'node_modules', '@finrisk', 'cache-cli'));
  const dist = (name: string) => pathToFileURL(join(realpathSync(join(cli, 'node_modules', '@finrisk', name)), 'dist', 'index.js')).href;
  return { FINRISK_CORE_URL: dist('cache-core'), FINRISK_ML_URL: dist('cache-ml') };
}

/** A service's own view of its counters, as it printed them. */
export interface ProcessStats {
  hits: number;
  misses: number;
  hitRate: number;
  byKind: Record<string, { hits: number; misses: number; writes: number; errors: number; operations: number; totalLatencyMs: number; l1Hits: number; l1Misses: number; l1Bytes: number }>;
}

/**
 * Runs one SDK process (its own `CACHE_SERVICE_NAME`), which does `steps`, publishes its
 * statistics and prints its own `processStats()` as JSON; returns them.
 */
export async function runService(steps: readonly ServiceStep[], env: Record<string, string>, cwd: string): Promise<ProcessStats> {
  const result: BinaryResult = await runBinary([JSON.stringify(steps)], { cwd, env: { ...env, ...sdkUrls() }, command: [process.execPath, FIXTURE] });
  if (result.code !== 0) throw new Error(`the service failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as ProcessStats;
}
