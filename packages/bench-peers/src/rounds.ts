// Runs a workload for every library, interleaved round by round, and turns the rounds into
// medians of per-round ratios. A slow moment of a shared machine then lands on one round of every
// library alike, and a ratio is only ever taken between two runs of the same round.

/** One library's result in one round: a rate, or why it has none. */
export type RoundResult = { ok: true; value: number; errors: 0 } | { ok: false; errors: number; ops: number; reason: string };

/** Median and range of a list of numbers. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, n: sorted.length };
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Rejects after `ms`, so that a library that hangs fails its round instead of the whole run;
 * `stop` (when given) is aborted then, so that the calls of a burst still running stop queueing
 * work behind the next library's measurement.
 */
export async function withDeadline<T>(ms: number, what: string, work: Promise<T>, stop?: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          stop?.abort();
          reject(new Error(`${what} did not finish within ${ms / 1000} s`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Outcome of running `ops` calls with `inFlight` outstanding. */
export interface Burst {
  ms: number;
  errors: number;
  firstError: string | undefined;
}

/**
 * Calls `op(i)` for i < ops with `inFlight` calls outstanding (1 = one at a time). A call that
 * throws or whose result `check` refuses is an error; the run goes on, so that the count is the
 * count of the whole round. No call starts once `signal` is aborted.
 */
export async function burst(ops: number, inFlight: number, op: (i: number) => Promise<unknown>, check: (result: unknown) => string | null, signal?: AbortSignal): Promise<Burst> {
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const fail = (why: string) => {
    errors++;
    firstError ??= why;
  };
  const worker = async () => {
    while (next < ops && signal?.aborted !== true) {
      const i = next++;
      try {
        const why = check(await op(i));
        if (why !== null) fail(why);
      } catch (e) {
        fail(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      }
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(inFlight, ops) }, worker));
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, errors, firstError };
}

/** Rounds of every library, in the order they ran (rotated every round). */
export type Rounds = Map<string, RoundResult[]>;

/**
 * Runs `runOne(id)` for every id, `rounds` times, each round in a rotated order, after one warm-up
 * round whose results are dropped. A library that failed a round (errors, a throw, its deadline)
 * keeps its failure and is not run again in this workload.
 */
export async function interleave(ids: readonly string[], rounds: number, runOne: (id: string, warmUp: boolean) => Promise<RoundResult>): Promise<Rounds> {
  const out: Rounds = new Map(ids.map((id) => [id, []]));
  const failed = new Set<string>();
  for (let r = -1; r < rounds; r++) {
    const order = ids.map((_, i) => ids[(i + Math.max(r, 0)) % ids.length]!);
    for (const id of order) {
      if (failed.has(id)) continue;
      const result = await runOne(id, r < 0);
      if (!result.ok) {
        failed.add(id);
        out.get(id)!.push(result);
      } else if (r >= 0) out.get(id)!.push(result);
    }
  }
  return out;
}

/** The failure a library had in this workload, if any. */
export function failureOf(results: readonly RoundResult[]): Extract<RoundResult, { ok: false }> | undefined {
  return results.find((r): r is Extract<RoundResult, { ok: false }> => !r.ok);
}

/**
 * Median (min-max) over rounds of `num[r] / den[r]` where `higherIsBetter` values (ops/s), or of
 * `den[r] / num[r]` for times, so that above 1 always means the numerator did better.
 */
export function ratioSpread(num: readonly RoundResult[], den: readonly RoundResult[], higherIsBetter: boolean): Spread | null {
  if (failureOf(num) || failureOf(den)) return null;
  const ratios: number[] = [];
  for (let r = 0; r < Math.min(num.length, den.length); r++) {
    const a = num[r] as Extract<RoundResult, { ok: true }>;
    const b = den[r] as Extract<RoundResult, { ok: true }>;
    ratios.push(higherIsBetter ? a.value / b.value : b.value / a.value);
  }
  return spread(ratios);
}
