import { describe, expect, it } from 'vitest';
import { FrameError } from './errors.js';
import { decodeUtf8, firstInvalidUtf8, Utf8Collector } from './utf8.js';

describe('decodeUtf8', () => {
  it('decodes valid text and drops a BOM', () => {
    expect(decodeUtf8(Buffer.from('\uFEFFa,é\n'), 'f.csv')).toBe('a,é\n');
  });

  it('names the byte offset and line of the first invalid byte', () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n1,caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    expect(firstInvalidUtf8(bytes)).toBe(9);
    let error: unknown;
    try { decodeUtf8(bytes, 'latin1.csv'); } catch (e) { error = e; }
    expect(FrameError.hasReason(error, 'FILE_ENCODING')).toBe(true);
    expect((error as FrameError).message).toContain('latin1.csv is not valid UTF-8: byte 0xe9 at offset 9 (line 2)');
  });

  it('finds overlong and truncated sequences', () => {
    expect(firstInvalidUtf8(Uint8Array.from([0x41, 0xc0, 0x80]))).toBe(1);
    expect(firstInvalidUtf8(Uint8Array.from([0x41, 0xe2, 0x82]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from('ok €'))).toBe(-1);
  });
});

describe('Utf8Collector', () => {
  const caught = (f: () => unknown) => { try { f(); } catch (e) { return e as FrameError; } throw new Error('no error'); };
  const collect = (pieces: number[][]) => {
    const c = new Utf8Collector('in.csv');
    for (const p of pieces) c.push(Uint8Array.from(p));
    return c.text();
  };

  it('joins characters split across pieces and drops a BOM', () => {
    const euro = [...Buffer.from('a€b\n')];
    for (let cut = 0; cut <= euro.length; cut++) expect(collect([[0xef, 0xbb, 0xbf], euro.slice(0, cut), euro.slice(cut)])).toBe('a€b\n');
  });

  it('stops at the piece that holds the first invalid byte, with its file offset and line', () => {
    const c = new Utf8Collector('in.csv');
    c.push(Buffer.from('a,b\n1,2\n'));
    const error = caught(() => c.push(Uint8Array.from([0x33, 0xff, 0x0a])));
    expect(error.reason).toBe('FILE_ENCODING');
    expect(error.message).toContain('in.csv is not valid UTF-8: byte 0xff at offset 9 (line 3)');
  });

  it('names the start of a sequence broken across two pieces', () => {
    const error = caught(() => collect([[0x61, 0x0a, 0xe2, 0x82], [0x41]]));
    expect(error.message).toContain('byte 0xe2 at offset 2 (line 2)');
  });

  it('names a character cut short by the end of the text', () => {
    const error = caught(() => collect([[0x61, 0x62], [0xe2, 0x82]]));
    expect(error.message).toContain('byte 0xe2 (a character the end cuts short) at offset 2 (line 1)');
  });
});
