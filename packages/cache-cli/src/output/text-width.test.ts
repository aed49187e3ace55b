import { describe, expect, it } from 'vitest';
import { createColors } from './colors.js';
import { printable } from './printable.js';
import { formatTable } from './table.js';
import { padEnd, textWidth, truncateToWidth } from './text-width.js';

describe('textWidth', () => {
  it('counts East Asian wide and fullwidth characters as two columns', () => {
    expect(textWidth('abc')).toBe(3);
    expect(textWidth('東京')).toBe(4);
    expect(textWidth('한국어')).toBe(6);
    expect(textWidth('カタカナ')).toBe(8);
    expect(textWidth('ＡＢ')).toBe(4); // fullwidth forms
    expect(textWidth('𠀋')).toBe(2); // CJK extension B, outside the BMP
    expect(textWidth('ｶﾀ')).toBe(2); // halfwidth katakana stay narrow
  });

  it('counts emoji as two, combining marks and joiners as nothing, colours as nothing', () => {
    expect(textWidth('😀')).toBe(2);
    expect(textWidth('👨‍👩‍👧')).toBe(2); // one cluster joined by ZWJ
    expect(textWidth('🇫🇷')).toBe(2);
    expect(textWidth('❤️')).toBe(2);
    expect(textWidth('e\u0301')).toBe(1);
    expect(textWidth('é ü')).toBe(3);
    expect(textWidth(createColors(true).red('東京'))).toBe(4);
  });

  it('pads and truncates by columns, never inside a cluster', () => {
    expect(padEnd('東京', 6)).toBe('東京  ');
    expect(truncateToWidth('東京都港区六本木', 8)).toBe('東京都…');
    expect(textWidth(truncateToWidth('東京都港区六本木', 8))).toBeLessThanOrEqual(8);
    expect(truncateToWidth('😀😀😀', 4)).toBe('😀…');
    expect(truncateToWidth('short', 8)).toBe('short');
  });
});

describe('formatTable with CJK cells', () => {
  it('starts every column at the same terminal column on every line', () => {
    const lines = formatTable([['CUST001', '東京', 'approve'], ['CUST002', 'Paris', 'review'], ['CUST003', '서울특별시', 'ok']], {
      header: ['id', 'city', 'decision'],
    }).split('\n');
    // Where the third column starts, in terminal columns, counted independently of textWidth: Han and Hangul take two.
    const columns = (text: string) => [...text].reduce((n, ch) => n + (/[\u3000-\u9fff\uac00-\ud7a3]/.test(ch) ? 2 : 1), 0);
    const startOfLast = (line: string) => columns(line.slice(0, line.search(/(approve|review|ok|decision)$/)));
    const starts = lines.filter((l) => !l.startsWith('-')).map(startOfLast);
    expect(starts).toHaveLength(4);
    expect(new Set(starts).size).toBe(1);
  });
});

describe('printable', () => {
  it('writes control and bidi characters as escapes, and leaves other text alone', () => {
    expect(printable('a\u001b[2Jb')).toBe('a\\u001b[2Jb');
    expect(printable('evil\u202Etxt.exe')).toBe('evil\\u202etxt.exe');
    expect(printable('東京 é 😀')).toBe('東京 é 😀');
  });
});
