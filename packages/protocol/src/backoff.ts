/**
 * One backoff formula for every wait that grows after failures: a worker that cannot start,
 * a Redis command that failed transiently, a job retried after it failed.
 *
 * @module
 */

/** How a wait grows with the number of failures. */
export interface BackoffPolicy {
  /**
   * The first wait (attempt 0), in milliseconds.
   * @example base: 100
   */
  base: number;
  /**
   * The longest wait, in milliseconds.
   * @default Infinity (no cap)
   * @example cap: 5_000
   */
  cap?: number;
  /**
   * What each further attempt multiplies the wait by; 1 waits `base` every time.
   * @default 2
   * @example factor: 1
   */
  factor?: number;
  /**
   * Randomly shortens each wait by up to this fraction (0 to 1), so that peers failing
   * together do not all retry together.
   * @default 0
   * @example jitter: 0.2
   */
  jitter?: number;
}

/**
 * The wait before retry number `attempt` (from 0): `min(base · factor^attempt, cap)`, less
 * up to `jitter` of it at random, rounded to whole milliseconds.
 *
 * @example backoffDelay({ base: 100, cap: 5_000 }, 3) // 800
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const { base, cap = Number.POSITIVE_INFINITY, factor = 2, jitter = 0 } = policy;
  // 0 · Infinity is NaN: a zero base waits zero however many attempts came before.
  if (base === 0) return 0;
  const grown = Math.min(base * factor ** Math.max(0, attempt), cap);
  return Math.round(jitter > 0 ? grown * (1 - jitter * random()) : grown);
}
