/**
 * The workers that one-shot calls share: each runs one call at a time, but the client may
 * send it the next one-shot calls (each `call` + `done`, so each still its own checkout on
 * the worker) before the reply to the first has come back, so that the worker never waits
 * a round trip between them. The pool pipelines a call this way only when no worker is
 * idle and no more may be opened, and only when no checkout waits ahead of it.
 *
 * Which lane takes the next call: the one with the fewest calls in flight, among those
 * below the depth whose worker is moving. Both adapt to how long calls take, measured as a
 * moving average of the time between replies on a lane:
 *
 * - the depth is how many such calls fit in `PIPELINE_BUDGET_MS` (at least 1, at most
 *   `MAX_PIPELINE_DEPTH`). Small calls fill a round trip with many, so the worker never
 *   waits; calls of many milliseconds are not pipelined at all, as a round trip is nothing
 *   next to them, and each waits in the queue for the first worker to free up;
 * - a worker whose last reply is older than a few typical calls is busy with a long one:
 *   calls queued behind it would wait for it while another worker frees up, so it gets no
 *   more until it answers.
 *
 * @module
 */

/** The most one-shot calls in flight on one worker. */
const MAX_PIPELINE_DEPTH = 32;

/**
 * How long, in typical calls, the queue on one worker may be: the last call pipelined
 * waits about this long for the ones ahead of it. A round trip between two processes
 * costs 0.05 to 0.2 ms, so this covers several.
 */
const PIPELINE_BUDGET_MS = 2;

/**
 * A lane whose last reply is older than this many typical intervals between replies gets no
 * more calls until it answers.
 */
const STALLED_AFTER_INTERVALS = 4;

/** The least a lane may go without a reply before it counts as stalled, in ms (timer noise). */
const STALLED_AFTER_MIN_MS = 1;

/** Weight of the newest interval in the moving average. */
const AVERAGE_WEIGHT = 0.125;

interface Lane {
  /** One-shot calls in flight on the worker. */
  calls: number;
  /** `performance.now()` of the lane's last reply, or of its first call. */
  progressAt: number;
}

export class OneShotLanes<C> {
  readonly #lanes = new Map<C, Lane>();
  /** Moving average of the time between replies on a lane, in ms (0 until one came: the first sets it). */
  #interval = 0;

  /** One-shot calls in flight on `connection` (0 when it is no lane). */
  callsOn(connection: C): number {
    return this.#lanes.get(connection)?.calls ?? 0;
  }

  /** `connection`, idle until now, takes its first one-shot call. */
  open(connection: C): void {
    this.#lanes.set(connection, { calls: 1, progressAt: performance.now() });
  }

  /** A further call joins the lane of `connection`. */
  join(connection: C): void {
    const lane = this.#lanes.get(connection);
    if (lane) lane.calls++;
  }

  /**
   * A call left `connection` (its reply came, or it gave up); returns the calls still in
   * flight there, or -1 when `connection` was no lane (it was closed meanwhile). A lane
   * left with none is closed: the worker is idle again.
   */
  leave(connection: C): number {
    const lane = this.#lanes.get(connection);
    if (!lane) return -1;
    const now = performance.now();
    // With calls queued, the worker went from one to the next at once: this is one call's
    // time. With one, a round trip too: more than a call takes, which keeps the depth low
    // until pipelining shows what calls really take.
    const interval = now - lane.progressAt;
    this.#interval =
      this.#interval === 0
        ? interval
        : this.#interval + (interval - this.#interval) * AVERAGE_WEIGHT;
    lane.progressAt = now;
    lane.calls--;
    if (lane.calls === 0) this.#lanes.delete(connection);
    return lane.calls;
  }

  /** Forgets `connection` (it closed). */
  delete(connection: C): void {
    this.#lanes.delete(connection);
  }

  /**
   * The lane to pipeline the next call onto: the least loaded one below the depth whose
   * worker is moving and which `accepts` (not retiring, below `maxCheckouts`); or none.
   */
  pick(accepts: (connection: C) => boolean): C | undefined {
    const now = performance.now();
    const interval = this.#interval;
    const stalledAfter = Math.max(STALLED_AFTER_MIN_MS, interval * STALLED_AFTER_INTERVALS);
    let best: C | undefined;
    // Below the depth: a lane at it is passed over. Before any reply has shown how long
    // calls take, nothing is pipelined: a first burst of long calls waits in the queue.
    let fewest =
      interval > 0
        ? Math.min(MAX_PIPELINE_DEPTH, Math.max(1, Math.floor(PIPELINE_BUDGET_MS / interval)))
        : 1;
    for (const [connection, lane] of this.#lanes) {
      if (lane.calls >= fewest || now - lane.progressAt > stalledAfter) continue;
      if (!accepts(connection)) continue;
      best = connection;
      fewest = lane.calls;
    }
    return best;
  }
}
