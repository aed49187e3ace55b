// Sizes and round counts, from the environment. The defaults finish in a few minutes on a quiet
// 2-core machine; BENCH_PEERS_QUICK=1 shrinks them to under a minute, to check that it works.

const quick = process.env.BENCH_PEERS_QUICK === '1';

function count(name: string, full: number, small: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return quick ? small : full;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw}: expected a whole number >= ${min}`);
  return n;
}

const SECTIONS = ['redis', 'l1', 'read-through', 'coherence', 'memory'] as const;
/** A part of the benchmark that BENCH_PEERS_ONLY can pick. */
export type Section = (typeof SECTIONS)[number];

function sections(): readonly Section[] {
  const raw = process.env.BENCH_PEERS_ONLY;
  if (raw === undefined || raw.trim() === '') return SECTIONS;
  const picked = raw.split(',').map((s) => s.trim());
  const unknown = picked.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`BENCH_PEERS_ONLY=${raw}: unknown ${unknown.join(', ')}; expected a comma-separated list of ${SECTIONS.join(', ')}`);
  return picked as Section[];
}

/** Every size the benchmark uses; each line names its variable. */
export const settings = {
  quick,
  /** The parts to run (BENCH_PEERS_ONLY, comma-separated): redis, l1, read-through, coherence, memory. @default all */
  only: sections(),
  /** Measured rounds per workload (plus one warm-up round that is not counted). */
  rounds: count('BENCH_PEERS_ROUNDS', 5, 2),
  /** Distinct keys each library is seeded with and reads. */
  keys: count('BENCH_PEERS_KEYS', 1000, 200),
  /** Calls per round and library, one at a time (Redis round trips). */
  seqOps: count('BENCH_PEERS_SEQ_OPS', 3000, 200),
  /** Calls per round and library with `inFlight` outstanding (Redis round trips). */
  parOps: count('BENCH_PEERS_PAR_OPS', 30_000, 2000),
  /** Calls per round and library for hot (L1) reads. */
  hotOps: count('BENCH_PEERS_HOT_OPS', 100_000, 10_000),
  /** Calls outstanding at once in the "in flight" rows. */
  inFlight: count('BENCH_PEERS_IN_FLIGHT', 100, 100),
  /** Concurrent read-through callers of one missing key. */
  callers: count('BENCH_PEERS_CALLERS', 1000, 1000),
  /** How long the read-through compute takes, in ms. */
  computeMs: count('BENCH_PEERS_COMPUTE_MS', 20, 20, 0),
  /** Writes per coherence run (2 ms apart). */
  coherenceWrites: count('BENCH_PEERS_COHERENCE_WRITES', 300, 20),
  /** How long a coherence reader waits after the last write before it says "never", in ms. */
  coherenceWaitMs: count('BENCH_PEERS_COHERENCE_WAIT_MS', 3000, 500),
  /** Entries written and read in each fresh process that measures heap per L1 entry. */
  memoryEntries: count('BENCH_PEERS_MEMORY_ENTRIES', 5000, 500),
  /** Longest a round of one library may take before it counts as failed, in s. */
  deadlineS: count('BENCH_PEERS_DEADLINE_S', 60, 30),
};

export type Settings = typeof settings;
