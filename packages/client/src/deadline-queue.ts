/**
 * Deadlines of the calls on one connection, with one timer for all of them instead of a
 * `setTimeout` (and a `clearTimeout`) per call.
 *
 * Calls are kept in order of deadline, which is nearly always the order they were sent
 * (one timeout for all of them), so adding one is a push. A worker answers calls in the
 * order they were sent, so the call at the front is nearly always the next to settle:
 * settled calls are dropped from the front as they settle, and a settled call behind a
 * pending one waits there (the queue is compacted when they pile up). The timer is set for
 * the earliest deadline; when it fires, whatever is still pending and due expires, and it
 * is set again for the next. A call that settles does not touch the timer.
 *
 * @module
 */
import { MAX_TIMER_MS } from '@taskpool/protocol';

/** What the queue needs of a call. */
export interface Deadline {
  /** When the call expires, in `performance.now()` milliseconds. */
  readonly deadline: number;
  /** True once the call has settled; its deadline no longer matters. */
  readonly done: boolean;
  /** The deadline passed while the call was pending. */
  expire(): void;
}

/**
 * A delay `setTimeout` honours: Node fires a timer set below 1 ms (or NaN) after 1 ms, and
 * one above `MAX_TIMER_MS` (2^31 - 1) after 1 ms too. Longer delays are clamped to the max:
 * a timer that fires early re-arms for what is left (as the queue below does).
 */
/** The `performance.now()` deadline of a call given `timeout` ms from now (null: none, Infinity). */
export function deadlineAfter(timeout: number | null): number {
  return timeout === null ? Number.POSITIVE_INFINITY : performance.now() + timerDelay(timeout);
}

/**
 * The deadline a call carries to the worker (epoch ms), whose signal aborts then; undefined
 * for none. Rounded up past the client's own (`Date.now()` truncates), so that on one
 * machine the client's timer comes first.
 */
export function workerDeadline(timeout: number | null): number | undefined {
  return timeout === null ? undefined : Date.now() + Math.ceil(timeout) + 1;
}

export function timerDelay(ms: number): number {
  if (ms > MAX_TIMER_MS) return MAX_TIMER_MS;
  return ms >= 1 ? ms : 1;
}

export class DeadlineQueue {
  /** Slots before #head are emptied, so that settled calls are not kept alive. */
  #items: (Deadline | undefined)[] = [];
  /** Index of the first item still in the queue. */
  #head = 0;
  /** Settled items behind the head, dropped when the queue is compacted. */
  #stale = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires, or Infinity. */
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #fire = () => this.#onTimer();

  /** Items still held (pending or not yet dropped). */
  get size(): number {
    return this.#items.length - this.#head;
  }

  add(item: Deadline): void {
    const items = this.#items;
    const last = items[items.length - 1];
    if (last === undefined || items.length === this.#head || last.deadline <= item.deadline) {
      items.push(item);
    } else {
      // Earlier than the last: binary search for its place (after equal deadlines).
      let low = this.#head;
      let high = items.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if ((items[middle] as Deadline).deadline <= item.deadline) low = middle + 1;
        else high = middle;
      }
      items.splice(low, 0, item);
    }
    if (item.deadline < this.#timerAt) this.#arm(item.deadline);
  }

  /** Call once `item` has settled: drops settled items from the front. */
  settled(item: Deadline): void {
    const items = this.#items;
    let head = this.#head;
    if (items[head] !== item) {
      // Behind a pending call (an abort, a shorter per-call timeout): left for later.
      if (++this.#stale > 1_024 && this.#stale * 2 > this.size) this.#compact();
      return;
    }
    items[head++] = undefined;
    while (head < items.length && (items[head] as Deadline).done) items[head++] = undefined;
    if (head === items.length) {
      this.#items = [];
      this.#head = 0;
      this.#stale = 0;
    } else if (head > 1_024 && head * 2 > items.length) {
      this.#items = items.slice(head);
      this.#head = 0;
    } else {
      this.#head = head;
    }
  }

  /** Forgets every item and stops the timer (the connection is gone). */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#items = [];
    this.#head = 0;
    this.#stale = 0;
  }

  #compact(): void {
    this.#items = this.#items.slice(this.#head).filter((item) => item !== undefined && !item.done);
    this.#head = 0;
    this.#stale = 0;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#fire, timerDelay(Math.ceil(at - performance.now())));
    // The connection's socket keeps the process alive while calls are pending; an idle
    // connection's stale timer must not.
    this.#timer.unref();
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    for (;;) {
      // Re-read every time: expiring a call can close the connection and clear the queue.
      const items = this.#items;
      const item = items[this.#head];
      if (item === undefined) break;
      if (!item.done && item.deadline > now) {
        this.#arm(item.deadline);
        break;
      }
      items[this.#head++] = undefined;
      if (!item.done) item.expire();
    }
    if (this.#head >= this.#items.length) {
      this.#items = [];
      this.#head = 0;
      this.#stale = 0;
    }
  }
}
