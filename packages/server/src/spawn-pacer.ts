/**
 * When the supervisor may spawn its next worker: at least `spawnInterval` after the last
 * one, and backing off (100 ms, doubling, up to 5 s) while workers fail to start, so code
 * that cannot load does not fork in a tight loop.
 *
 * @module
 */

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export class SpawnPacer {
  readonly #interval: number;
  #lastSpawn = Number.NEGATIVE_INFINITY;
  #failedStarts = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(spawnInterval: number) {
    this.#interval = spawnInterval;
  }

  /** A spawn is scheduled and has not happened yet. */
  get scheduled(): boolean {
    return this.#timer !== undefined;
  }

  /** Runs `spawn` now when it may, else once it may (one at a time). */
  request(spawn: () => void): void {
    if (this.#timer) return;
    const backoff =
      this.#failedStarts > 0
        ? Math.min(FIRST_BACKOFF_MS * 2 ** (this.#failedStarts - 1), MAX_BACKOFF_MS)
        : 0;
    const delay = Math.max(this.#lastSpawn + this.#interval - performance.now(), backoff);
    if (delay <= 0) {
      this.#lastSpawn = performance.now();
      spawn();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lastSpawn = performance.now();
      spawn();
    }, delay);
  }

  /** A worker failed to start: the next spawn waits longer. */
  failedStart(): void {
    this.#failedStarts++;
  }

  /** A worker started: no more backing off. */
  started(): void {
    this.#failedStarts = 0;
  }

  /** Drops a scheduled spawn. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
