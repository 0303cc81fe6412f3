/**
 * Reading the fields a script returns about a job.
 *
 * @module
 */

/** Parses a job's data JSON; unreadable data becomes a reason instead of a crash. */
export function readData(json: unknown): { data: unknown; unreadable?: string } {
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
export function redisDeadline(deadline: unknown, redisNow: number): number | null {
  const value = Number(deadline);
  if (!Number.isFinite(value) || value <= 0) return null;
  return Date.now() + (value - redisNow);
}
