/**
 * Runs a worker's `setup`: once at start (so spares are warm), and again before a call as
 * long as it has not succeeded. A failure at start is reported to the first call (as the
 * original ran setup inside the first call); later calls retry. Its log goes into the
 * reply of the call it ran for.
 *
 * @module
 */
import { DeferredLog, SetupError } from '@taskpool/protocol/runtime';
import type { WorkerDefinition } from './worker-definition.js';

export class SetupRunner {
  readonly #setup: WorkerDefinition['setup'];
  readonly #workerId: number;
  #done: boolean;
  #unreported: SetupError | undefined;
  #log: DeferredLog | undefined;

  constructor(setup: WorkerDefinition['setup'], workerId: number) {
    this.#setup = setup;
    this.#workerId = workerId;
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

  async #run(): Promise<SetupError | undefined> {
    const log = this.#log ?? new DeferredLog();
    try {
      await this.#setup?.({ log, workerId: this.#workerId });
      this.#done = true;
      return undefined;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return new SetupError(reason, { cause: error });
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
