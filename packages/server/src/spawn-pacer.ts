/**
 * When the supervisor may spawn its next worker: at least `spawnInterval` after the last
 * one, and backing off (100 ms, doubling, up to 5 s) while workers fail to start, so code
 * that cannot load does not fork in a tight loop.
 *
 * @module
 */
import { type BackoffPolicy, backoffDelay } from '@taskpool/protocol/internal';

const START_BACKOFF: BackoffPolicy = { base: 100, cap: 5_000 };

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

  /** The pause failed starts impose on the next spawn: 0 after a worker started. */
  get backoff(): number {
    return this.#failedStarts > 0 ? backoffDelay(START_BACKOFF, this.#failedStarts - 1) : 0;
  }

  /** Runs `spawn` now when it may, else once it may (one at a time). */
  request(spawn: () => void): void {
    if (this.#timer) return;
    const delay = Math.max(this.#lastSpawn + this.#interval - performance.now(), this.backoff);
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

  /** Drops a scheduled spawn and forgets failed starts (listen() failed: a new one starts afresh). */
  reset(): void {
    this.cancel();
    this.#failedStarts = 0;
  }

  /** Drops a scheduled spawn. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
