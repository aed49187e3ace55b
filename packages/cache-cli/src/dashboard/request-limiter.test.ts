import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestLimiter } from './request-limiter.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('RequestLimiter', () => {
  it('serves inFlight at once, queues the next ones in order, and refuses past the queue', async () => {
    const limiter = new RequestLimiter({ inFlight: 2, queue: 2, waitMs: 60_000 });
    const first = await limiter.acquire();
    const second = await limiter.acquire();
    expect([typeof first, typeof second]).toEqual(['function', 'function']);
    const order: string[] = [];
    const third = limiter.acquire().then((slot) => (order.push('third'), slot));
    const fourth = limiter.acquire().then((slot) => (order.push('fourth'), slot));
    expect(await limiter.acquire()).toBe('queue-full');
    expect({ running: limiter.running, waiting: limiter.waiting }).toEqual({ running: 2, waiting: 2 });
    (first as () => void)();
    (first as () => void)(); // a second release of the same slot frees nothing more
    const granted = await third;
    expect(typeof granted).toBe('function');
    expect({ running: limiter.running, waiting: limiter.waiting }).toEqual({ running: 2, waiting: 1 });
    (second as () => void)();
    expect(typeof (await fourth)).toBe('function');
    expect(order).toEqual(['third', 'fourth']);
  });

  it('gives a waiting place up when its client leaves, and refuses after waitMs', async () => {
    vi.useFakeTimers();
    const limiter = new RequestLimiter({ inFlight: 1, queue: 2, waitMs: 5_000 });
    const held = await limiter.acquire();
    const left = new AbortController();
    const leaving = limiter.acquire(left.signal);
    const waiting = limiter.acquire();
    left.abort();
    expect(await leaving).toBe('gone');
    expect(limiter.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(5_001);
    expect(await waiting).toBe('timed-out');
    expect(limiter.waiting).toBe(0);
    expect(await limiter.acquire(AbortSignal.abort())).toBe('gone');
    (held as () => void)();
    expect(limiter.running).toBe(0);
  });
});
