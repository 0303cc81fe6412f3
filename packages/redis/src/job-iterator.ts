/**
 * The async iterator over a consumer's taken jobs: it buffers the jobs taken and not yet
 * read, yields them in order (skipping any that settled meanwhile: cancelled, timed out,
 * lost), and ends once its consumer takes no more. Breaking out of `for await` stops the
 * consumer and hands back the jobs taken but not yielded.
 *
 * @module
 */

/** What a {@link JobIterator} asks of its consumer. */
export interface JobSource<TJob> {
  /**
   * True once no more jobs will be pushed: the consumer's take loop has ended, or the
   * consumer gave up on Redis (a take still stuck then is handed straight back).
   */
  exhausted(): boolean;
  /** Stops the consumer; resolves once a take in flight has returned (or within its bound). */
  stop(): Promise<void>;
  /** Hands back jobs that were taken but never yielded. */
  handBack(jobs: TJob[]): Promise<void>;
}

/** The jobs of one consumer, read with `for await`. */
export class JobIterator<TJob extends { readonly settled: boolean }>
  implements AsyncIterableIterator<TJob>
{
  readonly #source: JobSource<TJob>;
  /** Taken and not yet yielded. */
  readonly #buffer: TJob[] = [];
  readonly #wakeReader = new Set<() => void>();

  constructor(source: JobSource<TJob>) {
    this.#source = source;
  }

  /** Adds a job just taken, for the next read. */
  push(job: TJob): void {
    this.#buffer.push(job);
    this.wake();
  }

  /** Forgets a job that is no longer to be yielded (settled or abandoned). */
  remove(job: TJob): void {
    const buffered = this.#buffer.indexOf(job);
    if (buffered >= 0) this.#buffer.splice(buffered, 1);
  }

  /** Wakes a reader waiting for a job: one came, or none will (see {@link JobSource.exhausted}). */
  wake(): void {
    for (const wake of this.#wakeReader) wake();
  }

  async next(): Promise<IteratorResult<TJob>> {
    for (;;) {
      const job = this.#buffer.shift();
      if (job) {
        if (job.settled) continue;
        return { done: false, value: job };
      }
      if (this.#source.exhausted()) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#wakeReader.delete(wake);
          resolve();
        };
        this.#wakeReader.add(wake);
      });
    }
  }

  /** Ends iteration: the consumer stops, and jobs taken but not yielded go back to the queue. */
  async return(): Promise<IteratorResult<TJob>> {
    // Wait for a take in flight: what it brings back is handed back too.
    await this.#source.stop();
    // A settled job (cancelled, timed out) is being recorded: handed back, it would run.
    const unread = this.#buffer.splice(0).filter((job) => !job.settled);
    if (unread.length > 0) await this.#source.handBack(unread);
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
