/**
 * Offset of the first character that makes `text` invalid JSON (RFC 8259), or `text.length` when
 * the input ends too early; -1 when it is valid. V8's own messages do not always carry a
 * position ("Unexpected token 'a', ..."), so the CLI finds it itself.
 */
export function findJsonErrorPosition(text: string): number {
  let i = 0;
  const fail = (at: number): never => {
    throw at;
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail(i);
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail(i);
      const ch = text[i]!;
      if (ch === '"') return void i++;
      if (ch.charCodeAt(0) < 0x20) fail(i);
      if (ch === '\\') {
        const next = text[i + 1];
        if (next === undefined) fail(i + 1);
        if (next === 'u') {
          for (let k = 2; k < 6; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) fail(Math.min(i + k, text.length));
          i += 6;
        } else if ('"\\/bfnrt'.includes(next!)) i += 2;
        else fail(i + 1);
      } else i++;
    }
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match || match[0] === '-') fail(i + (match?.[0].length ?? 0));
    i += match![0].length;
  };
  const key = () => {
    ws();
    if (text[i] !== '"') fail(i);
    string();
    ws();
    if (text[i] !== ':') fail(i);
    i++;
  };
  // No recursion: the open objects and arrays are a stack, so nesting of any depth is walked
  // (a recursive walk overflowed at a few thousand levels and reported position NaN).
  const OBJECT = 0;
  const ARRAY = 1;
  const open: number[] = [];
  const document = (): number => {
    for (;;) {
      // A value starts here.
      ws();
      const ch = text[i];
      if (ch === undefined) fail(i);
      if (ch === '{' || ch === '[') {
        i++;
        ws();
        if (text[i] === (ch === '{' ? '}' : ']')) i++;
        else {
          open.push(ch === '{' ? OBJECT : ARRAY);
          if (ch === '{') key();
          continue;
        }
      } else if (ch === '"') string();
      else if (ch === 't') literal('true');
      else if (ch === 'f') literal('false');
      else if (ch === 'n') literal('null');
      else if (ch === '-' || (ch! >= '0' && ch! <= '9')) number();
      else fail(i);
      // A value ended: close what it ends, or go on to the next one.
      for (;;) {
        ws();
        const top = open.at(-1);
        if (top === undefined) return i < text.length ? i : -1;
        if (text[i] === ',') {
          i++;
          if (top === OBJECT) key();
          break;
        }
        if (text[i] === (top === OBJECT ? '}' : ']')) {
          i++;
          open.pop();
          continue;
        }
        fail(i);
      }
    }
  };
  try {
    return document();
  } catch (at) {
    if (typeof at !== 'number') throw at;
    return Math.min(at, text.length);
  }
}
