import { describe, expect, it } from 'vitest';
import { burst, interleave, ratioSpread, spread, withDeadline, type RoundResult } from './rounds.ts';

const ok = (value: number): RoundResult => ({ ok: true, value, errors: 0 });

describe('spread', () => {
  it('gives the median of an odd and an even count, and the range', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spread([])).toBeNull();
  });
});

describe('ratioSpread', () => {
  it('takes each ratio within one round, not a ratio of medians', () => {
    // Round by round the SDK does 2x; the medians of the rates alone would say 1.5 / 1 = 1.5x.
    const sdk = [ok(100), ok(200), ok(150)];
    const peer = [ok(50), ok(100), ok(75)];
    expect(ratioSpread(sdk, peer, true)).toEqual({ median: 2, min: 2, max: 2, n: 3 });
  });

  it('inverts times, so that above 1 still means the SDK did better', () => {
    expect(ratioSpread([ok(10)], [ok(30)], false)?.median).toBe(3);
  });

  it('gives no ratio against a library that failed', () => {
    const failed: RoundResult = { ok: false, errors: 3, ops: 100, reason: 'boom' };
    expect(ratioSpread([ok(1), ok(1)], [ok(1), failed], true)).toBeNull();
    expect(ratioSpread([failed], [ok(1)], true)).toBeNull();
  });
});

describe('interleave', () => {
  it('runs a warm-up round, then rotates the order every round, and drops the warm-up', async () => {
    const calls: string[] = [];
    const rounds = await interleave(['a', 'b', 'c'], 3, async (id, warmUp) => {
      calls.push(`${warmUp ? 'w' : ''}${id}`);
      return ok(calls.length);
    });
    expect(calls).toEqual(['wa', 'wb', 'wc', 'a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    expect(rounds.get('a')!.map((r) => (r.ok ? r.value : -1))).toEqual([4, 9, 11]);
  });

  it('keeps a failure and does not run that library again', async () => {
    const calls: string[] = [];
    const rounds = await interleave(['a', 'b'], 3, async (id, warmUp) => {
      calls.push(id);
      return id === 'b' && !warmUp ? { ok: false, errors: 1, ops: 10, reason: 'wrong value' } : ok(1);
    });
    expect(calls.filter((c) => c === 'b')).toHaveLength(2); // warm-up and the first measured round
    expect(rounds.get('b')).toEqual([{ ok: false, errors: 1, ops: 10, reason: 'wrong value' }]);
    expect(rounds.get('a')).toHaveLength(3);
  });
});

describe('burst', () => {
  it('counts throws and refused results as errors and still runs every call', async () => {
    let calls = 0;
    const result = await burst(10, 3, async (i) => {
      calls++;
      if (i === 2) throw new Error('down');
      return i;
    }, (v) => (v === 5 ? 'a miss' : null));
    expect(calls).toBe(10);
    expect(result.errors).toBe(2);
    expect(['Error: down', 'a miss']).toContain(result.firstError);
  });

  it('keeps at most inFlight calls outstanding', async () => {
    let now = 0;
    let most = 0;
    await burst(50, 7, async () => {
      most = Math.max(most, ++now);
      await new Promise((r) => setTimeout(r, 1));
      now--;
    }, () => null);
    expect(most).toBe(7);
  });
});

describe('withDeadline', () => {
  it('fails a call that never settles', async () => {
    await expect(withDeadline(20, 'a hung library', new Promise(() => {}))).rejects.toThrow('a hung library did not finish within 0.02 s');
  });
});

describe('burst and withDeadline together', () => {
  it('start no call once the deadline passed', async () => {
    let calls = 0;
    const stop = new AbortController();
    const work = burst(1000, 1, async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
    }, () => null, stop.signal);
    await expect(withDeadline(30, 'a slow library', work, stop)).rejects.toThrow('did not finish');
    const atDeadline = calls;
    await work;
    expect(calls).toBeLessThanOrEqual(atDeadline + 1);
    expect(calls).toBeLessThan(1000);
  });
});
