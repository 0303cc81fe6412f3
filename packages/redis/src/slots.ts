/**
 * Counts what a worker holds against its concurrency and wakes whoever waits for room
 * (the take loop) or for nothing held at all (a draining stop).
 *
 * @module
 */

/** Concurrency slots of one worker. */
export class Slots {
  readonly capacity: number;
  #held = 0;
  readonly #waiters = new Set<() => void>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** How many are held. */
  get held(): number {
    return this.#held;
  }

  /** How many more may be taken. */
  get free(): number {
    return Math.max(0, this.capacity - this.#held);
  }

  hold(): void {
    this.#held++;
  }

  release(): void {
    this.#held--;
    for (const wake of this.#waiters) wake();
  }

  /** Resolves once `ready()` holds, or when `signal` aborts. */
  until(ready: () => boolean, signal?: AbortSignal): Promise<void> {
    if (ready() || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!ready() && !signal?.aborted) return;
        this.#waiters.delete(check);
        signal?.removeEventListener('abort', check);
        resolve();
      };
      this.#waiters.add(check);
      signal?.addEventListener('abort', check, { once: true });
    });
  }
}
