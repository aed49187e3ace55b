import { describe, expect, it } from 'vitest';
import { FrameError } from './errors.js';
import { parseCsv, quoteCell } from './csv-format.js';

describe('parseCsv', () => {
  it('keeps exact cell text, empty cells as null and "" as an empty string', () => {
    const p = parseCsv('id,name,note\n00123,"Smith, J",\n007,"say ""hi""",""\n', ',', 'x.csv');
    expect(p.header).toEqual(['id', 'name', 'note']);
    expect(p.columns).toEqual([['00123', '007'], ['Smith, J', 'say "hi"'], [null, '']]);
    expect(p.dialect).toEqual({ delimiter: ',', newline: '\n', trailingNewline: true });
  });

  it('reads CRLF files, quoted line breaks and a missing final newline', () => {
    const p = parseCsv('a,b\r\n1,"x\r\ny"\r\n2,z', ',', 'x.csv');
    expect(p.columns).toEqual([['1', '2'], ['x\r\ny', 'z']]);
    expect(p.dialect).toEqual({ delimiter: ',', newline: '\r\n', trailingNewline: false });
  });

  it('names the row and line of a ragged row', () => {
    const text = 'a,b\n1,2\n"multi\nline",3\n4,5,6\n';
    const error = (() => { try { parseCsv(text, ',', 'data/t.csv'); } catch (e) { return e; } })();
    expect(FrameError.hasReason(error, 'CSV_RAGGED')).toBe(true);
    expect((error as FrameError).message).toContain('data/t.csv: row 3 (line 5) has 3 fields, the header has 2');
    expect((error as FrameError).row).toBe(3);
  });

  it('reports an unclosed quote with its line', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n', ',', 'q.csv')).toThrow(/row 1 \(line 2\) opens a quoted field that is never closed/);
  });

  it('refuses an empty file and duplicate header names', () => {
    expect(() => parseCsv('  \n', ',', 'e.csv')).toThrow(/e.csv is empty/);
    expect(() => parseCsv('a,a\n1,2\n', ',', 'd.csv')).toThrow(/names column "a" twice/);
  });

  it('ends a file of several columns at its last record: blank lines after it are no rows', () => {
    for (const ending of ['\n\n', '\n\n\n', '\r\n\r\n']) {
      const p = parseCsv(`a,b${ending.slice(0, ending.length / 2)}1,2${ending}`, ',', 'x.csv');
      expect(p.columns, JSON.stringify(ending)).toEqual([['1'], ['2']]);
      expect(p.dialect.trailingNewline).toBe(true);
    }
    expect(parseCsv('a,b\n\n', ',', 'x.csv').columns).toEqual([[], []]);
    // a blank line between records is still a ragged row, named
    expect(() => parseCsv('a,b\n1,2\n\n3,4\n', ',', 'x.csv')).toThrow(/row 2 \(line 3\) has 1 field/);
  });

  it('reads a blank line of a one-column file as a null cell, as it writes one', () => {
    expect(parseCsv('a\n1\n\n', ',', 'x.csv').columns).toEqual([['1', null]]);
  });

  it('records lone-CR line endings as \\r', () => {
    const p = parseCsv('a,b\r1,2\r3,4\r', ',', 'mac.csv');
    expect(p.columns).toEqual([['1', '3'], ['2', '4']]);
    expect(p.dialect).toEqual({ delimiter: ',', newline: '\r', trailingNewline: true });
  });

  it('parses tab-separated text', () => {
    expect(parseCsv('a\tb\n1\t2,3\n', '\t', 't.tsv').columns).toEqual([['1'], ['2,3']]);
  });
});

describe('quoteCell', () => {
  it('quotes only when needed', () => {
    expect(quoteCell('plain', ',')).toBe('plain');
    expect(quoteCell('a,b', ',')).toBe('"a,b"');
    expect(quoteCell('a"b', ',')).toBe('"a""b"');
    expect(quoteCell('', ',')).toBe('""');
    expect(quoteCell('a,b', '\t')).toBe('a,b');
  });
});
