import picocolors from 'picocolors';
import type { CliOutputStream } from '../cli-io.js';

/** The few styles the CLI uses; each is the identity when colour is off. */
export interface Colors {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/**
 * Whether to colour a stream: only on a terminal, and never when `NO_COLOR` is set to anything
 * non-empty (https://no-color.org).
 */
export function isColorEnabled(stream: CliOutputStream, env: Record<string, string | undefined>, isTTY?: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY ?? stream.isTTY === true;
}

/** Colour functions, on or off. */
export function createColors(enabled: boolean): Colors {
  const c = picocolors.createColors(enabled);
  return { enabled, bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow, cyan: c.cyan };
}
