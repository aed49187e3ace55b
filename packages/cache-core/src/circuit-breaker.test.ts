import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold, refuses during the cooldown, lets one probe through, and closes on its success', () => {
    vi.useFakeTimers();
    try {
      const breaker = new CircuitBreaker({ threshold: 3, cooldownMs: 1000 });
      expect(breaker.failure()).toBe(false);
      expect(breaker.failure()).toBe(false);
      expect(breaker.allow()).toBe(true);
      expect(breaker.failure()).toBe(true);
      expect(breaker.state).toBe('open');
      expect(breaker.allow()).toBe(false);
      vi.advanceTimersByTime(1000);
      expect(breaker.allow()).toBe(true); // the probe
      expect(breaker.state).toBe('half-open');
      expect(breaker.allow()).toBe(false); // only one probe at a time
      breaker.success();
      expect(breaker.state).toBe('closed');
      expect(breaker.allow()).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reopens when the probe fails, and a success resets the count', () => {
    vi.useFakeTimers();
    try {
      const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 500 });
      breaker.failure();
      breaker.success();
      expect(breaker.failure()).toBe(false); // the count started again
      expect(breaker.failure()).toBe(true);
      vi.advanceTimersByTime(500);
      expect(breaker.allow()).toBe(true);
      expect(breaker.failure()).toBe(false); // reopened, not newly opened
      expect(breaker.state).toBe('open');
      expect(breaker.allow()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
