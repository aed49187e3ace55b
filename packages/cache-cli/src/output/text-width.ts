// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Visible width of a string: ANSI colour codes count for nothing. */
export function textWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

/** Pads `text` with spaces to `width` visible characters. */
export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - textWidth(text)));
}

/** Pads `text` on the left to `width` visible characters (numbers). */
export function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - textWidth(text))) + text;
}
