/**
 * Runs a worker's `setup`: once at start (so spares are warm), and again before a call as
 * long as it has not succeeded. A failure at start is reported to the first call (as the
 * original ran setup inside the first call); later calls retry. Each run is bounded by
 * `setupTimeout`: one that takes longer counts as failed, and a retry first waits for the
 * slow run still going (two runs of setup never overlap). Its log goes into the reply of
 * the call it ran for.
 *
 * @module
 */
import { DeferredLog, SetupError } from '@taskpool/protocol';
import type { WorkerDefinition } from './worker-definition.js';

export class SetupRunner {
  readonly #setup: WorkerDefinition['setup'];
  readonly #workerId: number;
  readonly #timeout: number | null;
  #done: boolean;
  #unreported: SetupError | undefined;
  #log: DeferredLog | undefined;
  /** The run of setup still going (it may have outlived its timeout). */
  #running: Promise<void> | undefined;

  constructor(setup: WorkerDefinition['setup'], workerId: number, timeout: number | null) {
    this.#setup = setup;
    this.#workerId = workerId;
    this.#timeout = timeout;
    this.#done = setup === undefined;
  }

  /** True once setup has succeeded (or there is none). */
  get ready(): boolean {
    return this.#done;
  }

  /** Runs setup at start; a failure is kept for the first call. */
  async warm(): Promise<void> {
    this.#unreported = await this.#run();
  }

  /**
   * Before a call: the failure of the start-up run if it was not reported yet, else runs
   * setup unless it already succeeded. Returns the error setup threw, if any.
   */
  async ensure(): Promise<SetupError | undefined> {
    if (this.#unreported) {
      const failure = this.#unreported;
      this.#unreported = undefined;
      return failure;
    }
    return this.#done ? undefined : this.#run();
  }

  #run(): Promise<SetupError | undefined> {
    let running = this.#running;
    if (!running) {
      const attempt = this.#attempt(this.#log ?? new DeferredLog());
      const clear = () => {
        if (this.#running === attempt) this.#running = undefined;
      };
      attempt.then(clear, clear);
      this.#running = attempt;
      running = attempt;
    }
    const finished = running.then(
      () => undefined,
      (error: unknown) =>
        new SetupError(error instanceof Error ? error.message : String(error), { cause: error }),
    );
    const timeout = this.#timeout;
    if (timeout === null) return finished;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<SetupError>((resolve) => {
      timer = setTimeout(
        () => resolve(new SetupError(`setup did not finish within setupTimeout (${timeout} ms)`)),
        timeout,
      );
    });
    return Promise.race([finished, late]).finally(() => clearTimeout(timer));
  }

  async #attempt(log: DeferredLog): Promise<void> {
    try {
      await this.#setup?.({ log, workerId: this.#workerId });
      this.#done = true;
    } finally {
      this.#log = log.isEmpty ? undefined : log;
    }
  }

  /** The setup log not yet sent, handed over once. */
  takeLog(): DeferredLog | undefined {
    const log = this.#log;
    this.#log = undefined;
    return log;
  }
}
