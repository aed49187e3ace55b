import { describe, expect, it } from 'vitest';
import { FrameError } from './errors.js';
import { decodeUtf8, firstInvalidUtf8 } from './utf8.js';

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
