import { formatBytes } from '@finrisk/cache-core';

/** `0.75` as `75.00%`. */
export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

/** A duration in ms with a sensible precision: `0.31 ms`, `12 ms`. */
export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

/** A whole number with thousands separators: `12,345`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Bytes as the guide prints them (`B`, `KB`, `MB`). */
export { formatBytes };

/** A TTL in seconds as text: `59m 58s`, `no expiry`, `missing`. */
export function formatTtl(seconds: number | null): string {
  if (seconds === null) return 'unknown';
  if (seconds === -1) return 'no expiry';
  if (seconds < 0) return 'missing';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', s || (!d && !h && !m) ? `${s}s` : ''];
  return parts.filter(Boolean).join(' ');
}
