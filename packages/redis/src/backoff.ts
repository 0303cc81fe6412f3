/**
 * The wait before a failed reliable job's next attempt: the queue's `backoff` option read
 * as a policy of the shared backoff formula.
 *
 * @module
 */
import { backoffDelay } from '@taskpool/protocol/internal';
import type { BackoffOptions } from './options.js';

/** Milliseconds to wait after failed attempt number `attempt` (from 1). */
export function retryDelay(backoff: Required<BackoffOptions>, attempt: number): number {
  return backoffDelay(
    {
      base: backoff.delay,
      factor: backoff.type === 'fixed' ? 1 : 2,
      jitter: backoff.jitter,
    },
    attempt - 1,
  );
}
