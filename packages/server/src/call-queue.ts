/**
 * A worker's queue of what it has received and not started: calls pipelined behind the
 * running one, and `done` (the end of a checkout). It keeps the connection's count of
 * failed calls, which decides whether a queued call may still run (see the protocol's
 * `failures`). No I/O: the connection feeds it and runs what it hands out.
 *
 * A cancel finds its call in O(1) through an index by id. The index is built on the first
 * cancel that comes while calls are queued and dropped when the queue empties, so the
 * usual call, which is never cancelled, costs no map operation; each queued call is
 * indexed at most once.
 *
 * @module
 */
import type { CallMessage, DoneMessage } from '@taskpool/protocol/internal';

/** Something a worker runs in turn. */
type QueuedItem = CallMessage | DoneMessage;

export class CallQueue {
  /**
   * Items in arrival order. A plain array: the connection stops reading past
   * `maxQueuedCalls`, so it stays small enough for `shift()` to be cheap.
   */
  readonly #items: QueuedItem[] = [];
  /** Queued calls by id, while a cancel has needed it (see above). */
  #index: Map<number, CallMessage> | undefined;
  /** Queued calls that were cancelled: passed over by `next()`. */
  readonly #cancelled = new Set<CallMessage>();
  #failures = 0;

  /** Items waiting (cancelled ones not counted). */
  get size(): number {
    return this.#items.length - this.#cancelled.size;
  }

  /** Calls that failed on this connection (cancelled ones aside). */
  get failures(): number {
    return this.#failures;
  }

  push(item: QueuedItem): void {
    this.#items.push(item);
    // A repeated id replaces the earlier call in the index: a cancel reaches the newest.
    if (item.type === 'call') this.#index?.set(item.id, item);
  }

  /** Puts back at the front the item `next()` just handed out. */
  unshift(item: QueuedItem): void {
    this.#items.unshift(item);
    if (item.type === 'call') this.#index?.set(item.id, item);
  }

  /** Removes a queued call; false when no call with that id is queued. */
  cancel(id: number): boolean {
    if (this.#items.length === 0) return false;
    this.#index ??= this.#buildIndex();
    const call = this.#index.get(id);
    if (call === undefined) return false;
    this.#index.delete(id);
    this.#cancelled.add(call);
    return true;
  }

  /** The next item to run, or undefined; cancelled calls are passed over. */
  next(): QueuedItem | undefined {
    for (;;) {
      const item = this.#items.shift();
      if (item === undefined) {
        this.#index = undefined;
        return undefined;
      }
      if (item.type === 'call') {
        if (this.#cancelled.size > 0 && this.#cancelled.delete(item)) continue;
        if (this.#index?.get(item.id) === item) this.#index.delete(item.id);
      }
      if (this.#items.length === 0) this.#index = undefined;
      return item;
    }
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
    this.#items.length = 0;
    this.#index = undefined;
    this.#cancelled.clear();
  }

  #buildIndex(): Map<number, CallMessage> {
    const index = new Map<number, CallMessage>();
    for (const item of this.#items) {
      if (item.type === 'call' && !this.#cancelled.has(item)) index.set(item.id, item);
    }
    return index;
  }
}
