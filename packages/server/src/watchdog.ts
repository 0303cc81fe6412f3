/**
 * The supervisor's watchdog: pings ready workers and reports one whose event loop has not
 * answered for `hungWorkerTimeout`, and one still starting past its start limit (or still
 * loading its code past its load limit). It
 * measures with a monotonic clock, and a tick that comes much later than asked means the
 * supervisor itself was paused (SIGSTOP, a laptop asleep, a paused VM): the time past
 * one period is not counted against the workers, so they are not killed on resume.
 *
 * @module
 */
import type { WorkerHandle } from './worker-handle.js';

interface WatchdogOptions {
  /** No answer for this long is a hung worker; null: never. */
  hungTimeout: number | null;
  /** Not ready this long after its spawn is a failed start; null: never. */
  startTimeout: number | null;
  /** Its code not loaded this long after its spawn is a failed start; null: never. */
  loadTimeout: number | null;
  workers: () => Iterable<WorkerHandle>;
  onHung: (worker: WorkerHandle, silentMs: number) => void;
  onStartTimeout: (worker: WorkerHandle, ageMs: number) => void;
}

export class Watchdog {
  readonly #options: WatchdogOptions;
  readonly #period: number;
  #timer: NodeJS.Timeout | undefined;
  #lastTick = 0;

  constructor(options: WatchdogOptions) {
    this.#options = options;
    const shortest = Math.min(
      options.hungTimeout ?? Number.POSITIVE_INFINITY,
      options.startTimeout ?? Number.POSITIVE_INFINITY,
      options.loadTimeout ?? Number.POSITIVE_INFINITY,
    );
    this.#period = Math.min(Math.max(Math.floor(shortest / 5), 20), 1_000);
  }

  start(): void {
    const { hungTimeout, startTimeout, loadTimeout } = this.#options;
    if (this.#timer || (hungTimeout === null && startTimeout === null && loadTimeout === null)) {
      return;
    }
    this.#lastTick = performance.now();
    this.#timer = setInterval(() => this.#tick(), this.#period);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = performance.now();
    const gap = now - this.#lastTick;
    this.#lastTick = now;
    const { hungTimeout, startTimeout, loadTimeout, workers, onHung, onStartTimeout } =
      this.#options;
    if (gap > this.#period * 2) {
      // This process was paused (or very late): the time past the period is not the
      // workers', and their answers to pings may be waiting unread. Ask again.
      const excess = gap - this.#period;
      for (const worker of workers()) {
        worker.forgive(excess);
        if (worker.state === 'spare' || worker.state === 'serving') worker.ping();
      }
      return;
    }
    for (const worker of workers()) {
      if (worker.state === 'exited') continue;
      if (worker.state === 'starting') {
        const age = worker.age(now);
        if (
          (startTimeout !== null && age > startTimeout) ||
          (loadTimeout !== null && !worker.loaded && age > loadTimeout)
        ) {
          onStartTimeout(worker, age);
        }
        continue;
      }
      const silent = worker.silentFor(now);
      if (hungTimeout !== null && silent > hungTimeout) onHung(worker, silent);
      else worker.ping();
    }
  }
}
