/**
 * Runs a worker's `setup`: once at start (so spares are warm), and again before a call as
 * long as it has not succeeded. Its log goes into the first call's reply.
 *
 * @module
 */
import { DeferredLog, SetupError } from '@taskpool/protocol';
import type { WorkerDefinition } from './worker-definition.js';

export class SetupRunner {
  readonly #setup: WorkerDefinition['setup'];
  readonly #workerId: number;
  #done: boolean;
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

  /** Runs setup unless it already succeeded; returns the error it threw, if any. */
  async ensure(): Promise<SetupError | undefined> {
    if (this.#done) return undefined;
    const log = this.#log ?? new DeferredLog();
    try {
      await this.#setup?.({ log, workerId: this.#workerId });
      this.#done = true;
      this.#log = log.isEmpty ? undefined : log;
      return undefined;
    } catch (error) {
      this.#log = log.isEmpty ? undefined : log;
      const reason = error instanceof Error ? error.message : String(error);
      return new SetupError(reason, { cause: error });
    }
  }

  /** The setup log not yet sent, handed over once. */
  takeLog(): DeferredLog | undefined {
    const log = this.#log;
    this.#log = undefined;
    return log;
  }
}
