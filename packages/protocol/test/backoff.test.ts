import { backoffDelay } from '@taskpool/protocol/internal';
import { describe, expect, it } from 'vitest';

describe('backoffDelay', () => {
  it('doubles from base by default, up to cap', () => {
    const policy = { base: 100, cap: 5_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(policy, attempt))).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000,
    ]);
  });

  it('has no cap unless one is given', () => {
    expect(backoffDelay({ base: 1_000 }, 20)).toBe(1_000 * 2 ** 20);
  });

  it('waits base every time with factor 1', () => {
    expect([0, 1, 9].map((attempt) => backoffDelay({ base: 250, factor: 1 }, attempt))).toEqual([
      250, 250, 250,
    ]);
  });

  it('shortens each wait by up to jitter of it, at random', () => {
    const policy = { base: 1_000, jitter: 0.5 };
    expect(backoffDelay(policy, 0, () => 0)).toBe(1_000);
    expect(backoffDelay(policy, 0, () => 0.5)).toBe(750);
    expect(backoffDelay(policy, 1, () => 0.999_999)).toBe(1_000);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(policy, 2);
      expect(delay).toBeGreaterThanOrEqual(2_000);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
  });

  it('stays finite past the largest power of two, and zero for a zero base', () => {
    expect(backoffDelay({ base: 50, cap: 1_000 }, 5_000)).toBe(1_000);
    expect(backoffDelay({ base: 0 }, 5_000)).toBe(0);
    expect(backoffDelay({ base: 10 }, -1)).toBe(10);
  });
});
