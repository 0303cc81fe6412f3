/**
 * A submitted job's progress updates as its handle's `progress`: an async iterable that
 * yields the updates received since submit, in order, and ends once the job's result has
 * settled. Progress is "latest wins", so unread updates beyond {@link PROGRESS_BUFFER} drop
 * the oldest: a handle costs at most that much memory whether or not anyone reads it.
 *
 * @module
 */
import { keepsNoRecords } from './options.js';

/**
 * The most progress updates a job handle keeps unread. When another arrives the oldest
 * unread one is dropped, so a slow reader (or none) costs bounded memory and still sees
 * the latest value last.
 *
 * @example
 * ```ts
 * // Reading only after the job finished yields at most the last PROGRESS_BUFFER updates.
 * await handle.result;
 * for await (const update of handle.progress) show(update);
 * ```
 */
export const PROGRESS_BUFFER = 64;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** One job's progress updates, fed by the submitter and read once by its handle's owner. */
export class ProgressFeed<T> implements AsyncIterable<T> {
  readonly #id: string;
  /** Unread updates, oldest first; allocated by the first update. */
  #unread: T[] | undefined;
  /** Readers waiting in `next()` for an update or the end. */
  #waiters: ((result: IteratorResult<T, undefined>) => void)[] = [];
  /** The counter of the newest update taken in; older or repeated ones are skipped. */
  #seq = 0;
  /** The job settled: no more updates; the unread ones are still yielded. */
  #ended = false;
  /** The reader returned (`break`): nothing more is kept. */
  #closed = false;
  #iterated = false;

  constructor(id: string) {
    this.#id = id;
  }

  /**
   * Takes in update `seq` (the record's counter). One not newer than the last taken in is a
   * repeat (re-read from the record after a reconnection) or overtaken, and is skipped.
   */
  push(seq: number, value: T): void {
    if (seq <= this.#seq) return;
    this.#seq = seq;
    if (this.#ended || this.#closed) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter({ done: false, value });
      return;
    }
    this.#unread ??= [];
    this.#unread.push(value);
    if (this.#unread.length > PROGRESS_BUFFER) this.#unread.shift();
  }

  /** Forgets the counter: Redis lost the record and the job was queued again afresh. */
  restart(): void {
    this.#seq = 0;
  }

  /** The job settled: readers get what is unread, then the end. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) waiter(DONE);
  }

  /**
   * The iterator; a feed has one. A second call throws a TypeError: updates are handed to
   * one reader, so two would each miss some.
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    if (this.#iterated) {
      throw new TypeError(
        `job ${this.#id}: its progress can be iterated once, and it already was (share one loop's updates instead)`,
      );
    }
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: () => {
        // Breaking out stops the updates for this handle only; the job runs on.
        this.#closed = true;
        this.#unread = undefined;
        for (const waiter of this.#waiters.splice(0)) waiter(DONE);
        return Promise.resolve(DONE);
      },
    };
  }

  #next(): Promise<IteratorResult<T, undefined>> {
    if (this.#closed) return Promise.resolve(DONE);
    if (this.#unread !== undefined && this.#unread.length > 0) {
      return Promise.resolve({ done: false, value: this.#unread.shift() as T });
    }
    if (this.#ended) return Promise.resolve(DONE);
    // Ends at the latest when the job settles: every result has a deadline or ends at close().
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/**
 * The `progress` of a simple-mode handle: simple mode keeps no records, so its workers
 * cannot report progress, and iterating says so rather than ending quietly.
 */
export const NO_PROGRESS: AsyncIterable<never> = Object.freeze({
  [Symbol.asyncIterator](): AsyncIterator<never> {
    throw keepsNoRecords('job.progress');
  },
});
