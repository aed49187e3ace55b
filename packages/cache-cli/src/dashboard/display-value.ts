/** Longest text the dashboard sends for one value or cell, in characters. */
export const MAX_TEXT_LENGTH = 2000;

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** JSON.stringify's replacer for what cached values may hold beyond JSON (superjson round-trips them). */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.from(value as unknown as ArrayLike<number | bigint>).slice(0, 64).map((v) => (typeof v === 'bigint' ? `${v}n` : v));
    return (value as unknown as { length: number }).length > 64 ? [...items, '…'] : items;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/**
 * A value as one line of text for the page: strings as they are, anything else as compact JSON
 * (Dates as ISO strings, Maps as objects, typed arrays as their first items), cut at `max`
 * characters. The page shows it with textContent: it is never HTML.
 */
export function valueText(value: unknown, max = MAX_TEXT_LENGTH): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return truncate(value, max);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value !== 'object') return truncate(String(jsonReplacer('', value)), max);
  try {
    return truncate(JSON.stringify(value, jsonReplacer) ?? String(value), max);
  } catch {
    return truncate(Object.prototype.toString.call(value), max);
  }
}

/** One named field of a value. */
export interface ValueField {
  name: string;
  text: string;
  /** Features: seconds since this feature was written, when known. */
  ageSeconds?: number;
}

/** Most fields sent for one value. */
export const MAX_FIELDS = 500;

/** A value as named fields: a plain object's own keys (a Map's entries), else one field named `value`. */
export function valueFields(value: unknown): ValueField[] {
  if (value instanceof Map) return [...value].slice(0, MAX_FIELDS).map(([k, v]) => ({ name: valueText(k, 200), text: valueText(v) }));
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) && !ArrayBuffer.isView(value)) {
    return Object.entries(value).slice(0, MAX_FIELDS).map(([name, v]) => ({ name: truncate(name, 200), text: valueText(v) }));
  }
  return [{ name: 'value', text: valueText(value) }];
}
