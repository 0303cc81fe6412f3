/**
 * The wait before a failed reliable job's next attempt.
 *
 * @module
 */
import type { BackoffOptions } from './options.js';

/** Milliseconds to wait after failed attempt number `attempt` (from 1). */
export function backoffDelay(backoff: Required<BackoffOptions>, attempt: number): number {
  const base =
    backoff.type === 'fixed' ? backoff.delay : backoff.delay * 2 ** Math.max(0, attempt - 1);
  return Math.round(base * (1 - backoff.jitter * Math.random()));
}
