import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight.js';

describe('SingleFlight', () => {
  it('runs one execution for concurrent callers of the same key', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls = Array.from({ length: 50 }, () =>
      flight.run('k', async () => {
        runs++;
        await gate;
        return 42;
      }),
    );
    expect(flight.has('k')).toBe(true);
    release();
    expect(await Promise.all(calls)).toEqual(Array(50).fill(42));
    expect(runs).toBe(1);
    expect(flight.size).toBe(0);
  });

  it('keeps different keys apart', async () => {
    const flight = new SingleFlight<string>();
    const [a, b] = await Promise.all([flight.run('a', async () => 'A'), flight.run('b', async () => 'B')]);
    expect([a, b]).toEqual(['A', 'B']);
  });

  it('does not remember a failure: the next call runs again', async () => {
    const flight = new SingleFlight<number>();
    await expect(flight.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(flight.has('k')).toBe(false);
    expect(await flight.run('k', async () => 7)).toBe(7);
  });
});
