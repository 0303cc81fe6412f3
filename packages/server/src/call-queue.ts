/**
 * A worker's queue of what it has received and not started: calls pipelined behind the
 * running one, and `done` (the end of a checkout). It keeps the connection's count of
 * failed calls, which decides whether a queued call may still run (see the protocol's
 * `failures`). No I/O: the connection feeds it and runs what it hands out.
 *
 * @module
 */
import type { CallMessage, DoneMessage } from '@taskpool/protocol/runtime';

/** Something a worker runs in turn. */
export type QueuedItem = CallMessage | DoneMessage;

/** Past this many spent slots at the front, the array is compacted. */
const COMPACT_AFTER = 1_024;

export class CallQueue {
  /** Items in arrival order; slots before #head have been handed out. */
  #items: (QueuedItem | undefined)[] = [];
  #head = 0;
  /** Queued calls by id, so that a cancel is O(1); a cancelled call is removed from it. */
  readonly #calls = new Map<number, CallMessage>();
  /** Queued items not handed out and not cancelled. */
  #size = 0;
  #failures = 0;

  /** Items waiting (cancelled ones not counted). */
  get size(): number {
    return this.#size;
  }

  /** Calls that failed on this connection (cancelled ones aside). */
  get failures(): number {
    return this.#failures;
  }

  push(item: QueuedItem): void {
    if (item.type === 'call') {
      // A repeated id replaces the earlier call in the index: a cancel reaches the newest.
      const earlier = this.#calls.get(item.id);
      if (earlier) this.#size--;
      this.#calls.set(item.id, item);
    }
    this.#items.push(item);
    this.#size++;
  }

  /** Removes a queued call; false when no call with that id is queued. */
  cancel(id: number): boolean {
    if (!this.#calls.delete(id)) return false;
    this.#size--;
    return true;
  }

  /** The next item to run, or undefined; cancelled calls are passed over. */
  next(): QueuedItem | undefined {
    const items = this.#items;
    while (this.#head < items.length) {
      const item = items[this.#head] as QueuedItem;
      items[this.#head++] = undefined;
      if (item.type === 'call') {
        if (this.#calls.get(item.id) !== item) continue;
        this.#calls.delete(item.id);
      }
      this.#size--;
      this.#compact();
      return item;
    }
    this.#compact();
    return undefined;
  }

  /** Counts a failed call; returns the new count. */
  recordFailure(): number {
    return ++this.#failures;
  }

  /** True when `call` was sent before its client knew of a failure: it must not run. */
  isBehindFailure(call: CallMessage): boolean {
    return (call.failures ?? 0) < this.#failures;
  }

  /** Drops everything (the connection is gone). */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#calls.clear();
    this.#size = 0;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      // Emptied (the usual case between reads): the array is kept for the next ones.
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
