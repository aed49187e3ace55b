import { InvalidArgumentError } from 'commander';

/** Parses a whole number in [min, max]; commander reports the message as bad usage. */
export function integerIn(min: number, max: number, name: string): (raw: string) => number {
  return (raw) => {
    const text = raw.trim();
    const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return value;
  };
}

/** Parses a number greater than 0 (fractions allowed). */
export function positiveNumber(name: string): (raw: string) => number {
  return (raw) => {
    const value = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
      throw new InvalidArgumentError(`${name} must be a number greater than 0.`);
    }
    return value;
  };
}

/** Parses a ratio from 0 to 1; `80%` is accepted as 0.8. */
export function ratio(name: string): (raw: string) => number {
  return (raw) => {
    const text = raw.trim();
    const value = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
    if (text === '' || !Number.isFinite(value) || value < 0 || value > 1) {
      throw new InvalidArgumentError(`${name} must be a ratio from 0 to 1 (e.g. 0.8 or 80%).`);
    }
    return value;
  };
}

/** Checks a `redis://` or `rediss://` URL. */
export function redisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidArgumentError('expected a URL such as redis://localhost:6379/0.');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InvalidArgumentError('expected a redis:// or rediss:// URL.');
  }
  return raw;
}

/** Checks a host name: not empty, no spaces. */
export function hostName(raw: string): string {
  if (!raw.trim() || /\s/.test(raw)) throw new InvalidArgumentError('expected a host name or address.');
  return raw;
}

/** Parses a comma-separated list of `host:port` (cluster seeds, sentinels). */
export function hostPortList(name: string): (raw: string) => string[] {
  return (raw) => {
    const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
    if (items.length === 0) throw new InvalidArgumentError(`${name} expects host:port[,host:port...], e.g. 10.0.0.1:7000,10.0.0.2:7000.`);
    for (const item of items) {
      const at = item.lastIndexOf(':');
      const port = Number(item.slice(at + 1));
      if (at <= 0 || !/^\d+$/.test(item.slice(at + 1)) || port < 1 || port > 65535 || /\s/.test(item.slice(0, at))) {
        throw new InvalidArgumentError(`${name}: ${JSON.stringify(item)} is not host:port (port 1 to 65535).`);
      }
    }
    return items;
  };
}
