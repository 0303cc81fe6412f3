/**
 * A worker asks its supervisor for the server's stats, over the IPC channel, when its
 * client sends a `stats` request: the counts live in the supervisor, the client talks to
 * the worker. Every request gets an answer or an error, never a wait without end.
 *
 * @module
 */
import { ClosedError, type ServerStatsSnapshot, TimeoutError } from '@taskpool/protocol';
import type { WorkerMessage } from './ipc.js';

/**
 * How long a worker waits for its supervisor's answer. The supervisor answers at once
 * unless its event loop is blocked or it is stopped; past this the client is told so
 * (`TIMEOUT`) rather than kept waiting.
 */
const SUPERVISOR_STATS_TIMEOUT_MS = 5_000;

interface Waiting {
  resolve: (stats: ServerStatsSnapshot) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const gone = () => new ClosedError("the server's supervisor");

export class SupervisorStats {
  /** Sends to the supervisor; false when the channel is closed (the supervisor is gone). */
  readonly #send: (message: WorkerMessage) => boolean;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  /** The request to the supervisor under way: every stats request meanwhile shares it. */
  #inFlight: Promise<ServerStatsSnapshot> | undefined;

  constructor(send: (message: WorkerMessage) => boolean) {
    this.#send = send;
  }

  /**
   * The supervisor's stats; rejects with `TIMEOUT` when it does not answer in time, and
   * with `CLOSED` when it is gone (a worker serves its client on after a supervisor crash).
   */
  request(): Promise<ServerStatsSnapshot> {
    // One question at a time, whatever the client pipelines: a flood of stats requests
    // costs the supervisor (which every client shares) one answer per round trip.
    if (this.#inFlight) return this.#inFlight;
    const asked = this.#ask();
    this.#inFlight = asked;
    const done = () => {
      if (this.#inFlight === asked) this.#inFlight = undefined;
    };
    asked.then(done, done);
    return asked;
  }

  #ask(): Promise<ServerStatsSnapshot> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(
          new TimeoutError(SUPERVISOR_STATS_TIMEOUT_MS, {
            detail: 'waiting for the server to answer a stats request',
          }),
        );
      }, SUPERVISOR_STATS_TIMEOUT_MS);
      // A worker whose client has left exits without waiting for the answer.
      timer.unref();
      this.#waiting.set(id, { resolve, reject, timer });
      if (!this.#send({ t: 'stats', id })) this.#settle(id)?.reject(gone());
    });
  }

  /** The supervisor's answer to request `id` (a late one, past its deadline, is dropped). */
  answer(id: number, stats: ServerStatsSnapshot): void {
    this.#settle(id)?.resolve(stats);
  }

  /** The supervisor is gone: no request will be answered. */
  disconnected(): void {
    for (const id of [...this.#waiting.keys()]) this.#settle(id)?.reject(gone());
  }

  #settle(id: number): Waiting | undefined {
    const waiting = this.#waiting.get(id);
    if (!waiting) return undefined;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    return waiting;
  }
}
