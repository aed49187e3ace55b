import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Result of one measured case. */
export interface Measurement {
  name: string;
  /** Operations per second. */
  opsPerSec: number;
  /** Mean time per operation, in µs. */
  usPerOp: number;
}

/**
 * Runs `op` for `ops` operations with `inFlight` calls outstanding at once (1 = sequential),
 * after a warm-up, and returns the best of `rounds` rounds (noise on a shared machine only
 * ever slows a round down).
 */
export async function measure(name: string, op: (i: number) => Promise<unknown>, ops: number, inFlight = 1, rounds = 3): Promise<Measurement> {
  const runOnce = async (count: number) => {
    let next = 0;
    const worker = async () => {
      while (next < count) await op(next++);
    };
    const start = process.hrtime.bigint();
    await Promise.all(Array.from({ length: inFlight }, worker));
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  await runOnce(Math.min(ops, 2000));
  let best = Infinity;
  for (let r = 0; r < rounds; r++) best = Math.min(best, await runOnce(ops));
  return { name, opsPerSec: (ops / best) * 1000, usPerOp: (best * 1000) / ops };
}

/** Runs a synchronous function `ops` times and returns µs per call (best of rounds). */
export function measureSync(name: string, op: (i: number) => unknown, ops: number, rounds = 5): Measurement {
  for (let i = 0; i < Math.min(ops, 5000); i++) op(i);
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) op(i);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { name, opsPerSec: (ops / best) * 1000, usPerOp: (best * 1000) / ops };
}

/** One line of the ratio table: a measured ratio against its target. */
export interface RatioRow {
  what: string;
  ratio: number;
  target: string;
  met: boolean;
  detail: string;
}

/** Prints measurements and ratios as aligned tables and writes them to `bench-results/{name}.json` at the repo root. */
export function report(name: string, measurements: Measurement[], ratios: RatioRow[], extra: Record<string, unknown> = {}): void {
  const pad = (s: string, n: number) => s.padEnd(n);
  const w = Math.max(...measurements.map((m) => m.name.length), 10);
  console.log(`\n${name}: measurements`);
  for (const m of measurements) console.log(`  ${pad(m.name, w)}  ${m.opsPerSec.toFixed(0).padStart(10)} ops/s  ${m.usPerOp.toFixed(2).padStart(9)} µs/op`);
  const rw = Math.max(...ratios.map((r) => r.what.length), 10);
  console.log(`\n${name}: ratios (measured in this run)`);
  for (const r of ratios) {
    console.log(`  ${pad(r.what, rw)}  ${r.ratio.toFixed(2).padStart(8)}  target ${pad(r.target, 8)}  ${r.met ? 'met' : 'MISSED'}  ${r.detail}`);
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');  // packages/test-utils/src -> repo root
  const file = join(root, 'bench-results', `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify({ name, date: new Date().toISOString(), node: process.version, measurements, ratios, ...extra }, null, 2),
  );
  console.log(`\n  written to ${file}`);
}
