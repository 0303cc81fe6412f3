/**
 * The workers that one-shot calls share: each runs one call at a time, but the client may
 * send it the next one-shot calls (each `call` + `done`, so each still its own checkout on
 * the worker) before the reply to the first has come back, so that the worker never waits
 * a round trip between them. The pool pipelines a call this way only when no worker is
 * idle and no more may be opened, and only when no checkout waits ahead of it.
 *
 * Whether a call may go behind others, and behind which, depends on how long calls take,
 * learned per method from the time between replies on a lane (a moving average):
 *
 * - a call of a method not timed yet is never pipelined, and nothing is pipelined behind
 *   one: a first burst of long calls waits in the client's queue, as checkouts do;
 * - a lane takes a call only while the calls it holds, with this one, are expected to take
 *   at most `PIPELINE_BUDGET_MS` (and at most `MAX_PIPELINE_DEPTH` calls): small calls
 *   fill a round trip with many, so the worker never waits, while calls of many
 *   milliseconds are not pipelined at all, as a round trip is nothing next to them;
 * - a lane whose last reply is older than a few times what its running call is expected to
 *   take is busy with a long one: calls queued behind it would wait for it while another
 *   worker frees up, so it gets no more until it answers;
 * - a lane whose worker is to be replaced (a call's handler failed) takes no more calls,
 *   and is closed once its last call has left.
 *
 * @module
 */

/** The most one-shot calls in flight on one worker. */
const MAX_PIPELINE_DEPTH = 32;

/**
 * How long the calls queued on one worker may be expected to take: the last call pipelined
 * waits about this long for the ones ahead of it. A round trip between two processes costs
 * 0.05 to 0.2 ms, so this covers several.
 */
const PIPELINE_BUDGET_MS = 2;

/**
 * A lane whose last reply is older than this many times what its running call is expected
 * to take gets no more calls until it answers.
 */
const STALLED_AFTER_TIMES = 4;

/** The least a lane may go without a reply before it counts as stalled, in ms (timer noise). */
const STALLED_AFTER_MIN_MS = 1;

/** Weight of the newest interval in a method's moving average. */
const AVERAGE_WEIGHT = 0.125;

/** A one-shot call, as the lanes know it: by identity, and by its method. */
export interface LaneTicket {
  readonly method: string | null;
}

/** A call on a lane, and how long it was expected to take when it joined (-1: not known). */
interface LaneCall {
  ticket: LaneTicket;
  expected: number;
}

interface Lane {
  /** The one-shot calls in flight on the worker, oldest first. */
  calls: LaneCall[];
  /** `performance.now()` of the lane's last reply, or of its first call. */
  progressAt: number;
  /** The worker is to be replaced: no call joins, and it closes once the last has left. */
  doomed: boolean;
}

export class OneShotLanes<C> {
  readonly #lanes = new Map<C, Lane>();
  /** Moving average of the time each method takes between replies on a lane, in ms. */
  readonly #intervals = new Map<string | null, number>();

  /** `connection`, idle until now, takes its first one-shot call. */
  open(connection: C, ticket: LaneTicket): void {
    const lane: Lane = { calls: [], progressAt: performance.now(), doomed: false };
    this.#lanes.set(connection, lane);
    this.#add(lane, ticket);
  }

  /** A call joins the lane of `connection` (one `pick` chose). */
  join(connection: C, ticket: LaneTicket): void {
    const lane = this.#lanes.get(connection);
    if (lane) this.#add(lane, ticket);
  }

  #add(lane: Lane, ticket: LaneTicket): void {
    lane.calls.push({ ticket, expected: this.#intervals.get(ticket.method) ?? -1 });
  }

  /**
   * A call left `connection`; `answered`: the worker ran it and replied, so the time since
   * the lane's last reply is what it took (with a round trip when it was alone). Returns the
   * calls still in flight there, or -1 when `connection` was no lane (it closed meanwhile).
   * A lane left with none is closed: the worker is idle again.
   */
  leave(connection: C, ticket: LaneTicket, answered: boolean): number {
    const lane = this.#lanes.get(connection);
    if (!lane) return -1;
    const index = lane.calls.findIndex((call) => call.ticket === ticket);
    if (index < 0) return lane.calls.length;
    const now = performance.now();
    if (answered) {
      const interval = now - lane.progressAt;
      const average = this.#intervals.get(ticket.method);
      this.#intervals.set(
        ticket.method,
        average === undefined ? interval : average + (interval - average) * AVERAGE_WEIGHT,
      );
    }
    // The worker moved on: it answered, or the call it runs (or has next) left. A call
    // cancelled while queued is answered at once, out of turn: it says nothing of the call
    // the worker runs.
    if (answered || index === 0) lane.progressAt = now;
    lane.calls.splice(index, 1);
    if (lane.calls.length === 0) this.#lanes.delete(connection);
    return lane.calls.length;
  }

  /** The worker of `connection` is to be replaced: no call joins it any more. */
  doom(connection: C): void {
    const lane = this.#lanes.get(connection);
    if (lane) lane.doomed = true;
  }

  /** True when `connection`'s worker is to be replaced once its calls have left. */
  isDoomed(connection: C): boolean {
    return this.#lanes.get(connection)?.doomed ?? false;
  }

  /** Forgets `connection` (it closed). */
  delete(connection: C): void {
    this.#lanes.delete(connection);
  }

  /**
   * The lane to pipeline `ticket`'s call onto: the one expected to free up first among
   * those that `accept` (not retiring, below `maxCheckouts`) and can take it (see above);
   * or none.
   */
  pick(ticket: LaneTicket, accepts: (connection: C) => boolean): C | undefined {
    const own = this.#intervals.get(ticket.method);
    if (own === undefined) return undefined;
    const now = performance.now();
    let best: C | undefined;
    let soonest = PIPELINE_BUDGET_MS - own;
    for (const [connection, lane] of this.#lanes) {
      if (lane.doomed || lane.calls.length >= MAX_PIPELINE_DEPTH) continue;
      const expected = expectedWait(lane);
      if (expected > soonest) continue;
      const running = lane.calls[0]?.expected ?? 0;
      const stalledAfter = Math.max(STALLED_AFTER_MIN_MS, running * STALLED_AFTER_TIMES);
      if (now - lane.progressAt > stalledAfter || !accepts(connection)) continue;
      best = connection;
      soonest = expected;
    }
    return best;
  }
}

/**
 * What the calls on `lane` are expected to take, in ms, as timed when they joined; Infinity
 * when one is of a method not timed yet (nothing goes behind it).
 */
function expectedWait(lane: Lane): number {
  let total = 0;
  for (const call of lane.calls) {
    if (call.expected < 0) return Number.POSITIVE_INFINITY;
    total += call.expected;
  }
  return total;
}
