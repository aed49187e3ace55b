// Markdown tables of the results, as BENCHMARKS.md records them.
import type { Contender } from './contenders.ts';
import { failureOf, ratioSpread, spread, type RoundResult, type Rounds, type Spread } from './rounds.ts';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, d: number) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

/** "median (min-max)", with `format` for each number. */
export function showSpread(s: Spread | null, format: (n: number) => string): string {
  if (!s) return '—';
  return s.n === 1 ? format(s.median) : `${format(s.median)} (${format(s.min)}-${format(s.max)})`;
}

export function showFailure(results: readonly RoundResult[]): string | null {
  const f = failureOf(results);
  if (!f) return null;
  return `**FAILED**: ${int(f.errors)} error${f.errors === 1 ? '' : 's'} in ${int(f.ops)} calls (first: ${f.reason.replaceAll('|', '/').slice(0, 160)})`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** One throughput workload: ops/s per library and the SDK's ratio to each. */
export function throughputTable(contenders: readonly Contender[], rounds: Rounds): string {
  const sdks = contenders.filter((c) => c.role === 'sdk');
  const rows = contenders.map((c) => {
    const mine = rounds.get(c.id)!;
    const failure = showFailure(mine);
    const ops = failure ?? showSpread(spread(mine.map((r) => (r.ok ? r.value : 0))), int);
    const ratios = sdks.map((s) => (s.id === c.id ? '—' : showSpread(ratioSpread(rounds.get(s.id)!, mine, true), (n) => fixed(n, 2))));
    return [c.label, ops, ...ratios];
  });
  return table(['library (setting)', 'ops/s, median (min-max)', ...sdks.map((s) => `${s.label} / it`)], rows);
}

/** Per-round ratios of every SDK contender to every other, for the JSON. */
export function ratiosOf(contenders: readonly Contender[], rounds: Rounds, higherIsBetter: boolean): Record<string, Record<string, Spread | null>> {
  const out: Record<string, Record<string, Spread | null>> = {};
  for (const s of contenders.filter((c) => c.role === 'sdk')) {
    out[s.id] = {};
    for (const c of contenders) if (c.id !== s.id) out[s.id]![c.id] = ratioSpread(rounds.get(s.id)!, rounds.get(c.id)!, higherIsBetter);
  }
  return out;
}

export { int, fixed };
