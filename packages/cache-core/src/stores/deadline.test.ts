import { afterEach, describe, expect, it, vi } from 'vitest';
import { afterDeadline, MAX_TIMEOUT_MS } from './deadline.js';

describe('afterDeadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // Node runs a timer set past 2^31-1 ms after 1 ms; the fake clock does the same.
  it('arms a deadline longer than a Node timer holds as the longest one, never as 1 ms', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const timer = afterDeadline(fired, MAX_TIMEOUT_MS + 1000);
    vi.advanceTimersByTime(60_000);
    expect(fired).not.toHaveBeenCalled();
    clearTimeout(timer);
  });

  it('still fires a deadline a timer holds', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    afterDeadline(fired, 5000);
    vi.advanceTimersByTime(5001);
    expect(fired).toHaveBeenCalledTimes(1);
  });
});
