import { describe, expect, it } from 'vitest';
import { createColors, isColorEnabled } from './colors.js';
import { createProgressBar } from './progress-bar.js';

describe('colour', () => {
  it('is on for a terminal only', () => {
    expect(isColorEnabled({ write() {}, isTTY: true }, {})).toBe(true);
    expect(isColorEnabled({ write() {} }, {})).toBe(false);
  });

  it('is never on with NO_COLOR, even on a terminal', () => {
    expect(isColorEnabled({ write() {}, isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(isColorEnabled({ write() {} }, { NO_COLOR: '1' }, true)).toBe(false);
  });

  it('an empty NO_COLOR does not count (no-color.org)', () => {
    expect(isColorEnabled({ write() {}, isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });

  it('writes no escape codes when off', () => {
    expect(createColors(false).red('x')).toBe('x');
    expect(createColors(true).red('x')).not.toBe('x');
  });
});

describe('progress bar', () => {
  it('draws on a terminal and erases itself', () => {
    let written = '';
    const bar = createProgressBar({ write: (s: string) => (written += s) }, { enabled: true, label: 'Counting', total: 4 });
    bar.update(2);
    expect(written).toContain('Counting [###############---------------] 50%');
    bar.done();
    expect(written.endsWith('\r\u001b[K')).toBe(true);
  });

  it('draws nothing when disabled', () => {
    let written = '';
    const bar = createProgressBar({ write: (s: string) => (written += s) }, { enabled: false, label: 'Counting', total: 4 });
    bar.update(2);
    bar.done();
    expect(written).toBe('');
  });
});
