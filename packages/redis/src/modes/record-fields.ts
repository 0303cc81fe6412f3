/**
 * Reading the fields a script returns about a job.
 *
 * @module
 */
import type { Claimed } from './mode.js';

/** Parses a job's data JSON; unreadable data becomes a reason instead of a crash. */
function readData(json: unknown): { data: unknown; unreadable?: string } {
  try {
    return { data: JSON.parse(String(json)) };
  } catch (error) {
    return { data: undefined, unreadable: `its data is not JSON: ${(error as Error).message}` };
  }
}

/**
 * Turns a deadline on Redis's clock (epoch ms, 0 for none) into one on this machine's
 * clock, using Redis's `now` from the same reply, so clocks that disagree do not matter.
 */
function redisDeadline(deadline: unknown, redisNow: number): number | null {
  const value = Number(deadline);
  if (!Number.isFinite(value) || value <= 0) return null;
  return Date.now() + (value - redisNow);
}

/**
 * Reads the five fields every job-starting script returns, from `reply[at]` on: id, data,
 * priority, queued-at and deadline (on Redis's clock, `now`).
 */
export function readStartedJob(
  reply: readonly (string | number)[],
  at: number,
  now: number,
): Pick<
  Claimed,
  'id' | 'data' | 'unreadable' | 'priority' | 'queuedAt' | 'startedAt' | 'deadline'
> {
  return {
    id: String(reply[at]),
    ...readData(reply[at + 1]),
    priority: String(reply[at + 2]),
    queuedAt: Number(reply[at + 3]),
    startedAt: now,
    deadline: redisDeadline(reply[at + 4], now),
  };
}
