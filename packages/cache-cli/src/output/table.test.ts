import { describe, expect, it } from 'vitest';
import { createColors } from './colors.js';
import { formatPairs, formatTable } from './table.js';

describe('formatTable', () => {
  it('aligns columns under a dashed header', () => {
    const text = formatTable([['REDIS_HOST', 'localhost', 'default'], ['REDIS_PORT', '6380', 'flag']], { header: ['Setting', 'Value', 'Source'] });
    expect(text.split('\n')).toEqual([
      'Setting     Value      Source',
      '----------  ---------  -------',
      'REDIS_HOST  localhost  default',
      'REDIS_PORT  6380       flag',
    ]);
  });

  it('ignores colour codes when measuring', () => {
    const c = createColors(true);
    const text = formatTable([[c.red('ab'), 'x'], ['abcd', 'y']]);
    const [first, second] = text.split('\n');
    expect(first!.replace(/\u001b\[[0-9;]*m/g, '').indexOf('x')).toBe(second!.indexOf('y'));
  });

  it('right-aligns number columns', () => {
    expect(formatTable([['a', '1'], ['b', '100']], { alignRight: [1] }).split('\n')).toEqual(['a    1', 'b  100']);
  });

  it('prints pairs so that a grep finds the label and its value on one line', () => {
    const line = formatPairs([['Status', 'healthy'], ['Hit Rate', '75.00%']]).split('\n').find((l) => l.includes('Hit Rate'));
    expect(line).toMatch(/^Hit Rate\s+75\.00%$/);
  });
});
