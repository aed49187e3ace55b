/** Backoff between reconnection attempts: 50 ms doubling to 2 s, with jitter so replicas do not reconnect in step. */
export function reconnectDelay(retries: number): number {
  const base = Math.min(50 * 2 ** retries, 2000);
  return Math.round(base / 2 + Math.random() * (base / 2));
}
