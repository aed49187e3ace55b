// The value of the coherence runs: one fixed-width string that says which write it is and when it
// was sent (ms on a clock every process of this machine shares). Fixed width, so that the bytes a
// library stored for a placeholder can be rewritten by redis-cli without changing any length.

/** Length of a stamp. */
export const STAMP_WIDTH = 25;
/** What a library stores first, so that its own bytes can be found and reused. */
export const PLACEHOLDER = 'X'.repeat(STAMP_WIDTH);
/** Writes sent before the measured ones, so that a bus or subscription still starting costs no measured write. */
export const WARM_WRITES = 25;

/** ms since the epoch with µs resolution, comparable across processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now();

export function makeStamp(seq: number, sentAt = now()): string {
  return `${String(seq).padStart(7, '0')}@${sentAt.toFixed(3).padStart(17, '0')}`;
}

/** The write number and send time of a value read back, or null when it is not a stamp. */
export function readStamp(value: unknown): { seq: number; sentAt: number } | null {
  const stamp = (value as { stamp?: unknown } | null | undefined)?.stamp;
  if (typeof stamp !== 'string' || stamp === PLACEHOLDER) return null;
  const [seq, sentAt] = stamp.split('@');
  return { seq: Number(seq), sentAt: Number(sentAt) };
}
