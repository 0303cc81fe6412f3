/**
 * Counts what a consumer holds against its concurrency, one slot per job, and wakes whoever
 * waits for room (the take loop) or for nothing held at all (a draining stop).
 *
 * @module
 */

/**
 * What keeps a job's slot held: the job itself, until its consumer dropped it (settled, lost
 * or handed back), and its handler (`process()`), until the handler returned. A handler may
 * settle its job and carry on; the slot is free once neither keeps it.
 */
type Keeper = 'job' | 'handler';

/** Concurrency slots of one consumer, each held by one job. */
export class Slots<TJob> {
  readonly capacity: number;
  /** Each job holding a slot, and what still keeps it held. */
  readonly #held = new Map<TJob, Set<Keeper>>();
  readonly #waiters = new Set<() => void>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** How many are held. */
  get held(): number {
    return this.#held.size;
  }

  /** How many more may be taken. */
  get free(): number {
    return Math.max(0, this.capacity - this.#held.size);
  }

  /** Holds a slot for `job`, just taken; the job keeps it. */
  hold(job: TJob): void {
    this.#held.set(job, new Set(['job']));
  }

  /** Makes `keeper` keep `job`'s slot held too; does nothing once the slot is free. */
  keep(job: TJob, keeper: Keeper): void {
    this.#held.get(job)?.add(keeper);
  }

  /** `keeper` lets go of `job`'s slot, once; the slot is free when nothing keeps it. */
  release(job: TJob, keeper: Keeper): void {
    const keepers = this.#held.get(job);
    if (!keepers?.delete(keeper) || keepers.size > 0) return;
    this.#held.delete(job);
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
