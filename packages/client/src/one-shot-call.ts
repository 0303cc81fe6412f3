/**
 * One `client.call()`: a checkout of its own for one call, without a checkout object. It
 * takes a worker from the pool (or a place on one that runs one-shot calls, see
 * one-shot-lanes.ts), sends the call and `done` in one write, and gives the worker back
 * when the reply comes: the worker runs `checkoutDone` after the call whatever the client
 * does next, so nothing is left to send.
 *
 * The rules are a checkout's. Its `timeout` counts from when it is sent, and a reply the
 * handler failed with (or a result that breaks the interface) replaces the worker, unless
 * `dontReforkAfterError`. An abort rejects at once with `signal.reason` and sends `cancel`.
 * Only the call the worker is running (every call sent before it has its reply) can hold
 * the worker up: when it passes its deadline, or ignores its cancel past `cancelGrace`, the
 * worker is dropped. A call still queued behind others on the worker that passes its
 * deadline or is aborted is cancelled there instead, which drops it without running it and
 * keeps the worker.
 *
 * A call that never ran is sent again, at the head of the pool's queue: the worker refused
 * it (`PRECEDING_CALL_FAILED`: a call ahead of it on the same worker failed first), or the
 * worker was dropped after reporting such a failure, which the worker would have refused it
 * for. Any other end of the connection while it waits for its reply fails it with that
 * error (`WORKER_LOST`): the call may have run.
 *
 * @module
 */
import {
  ClosedError,
  type Interface,
  isTaskpoolError,
  type TaskpoolError,
  TimeoutError,
  ValidationError,
  WorkerLostError,
} from '@taskpool/protocol';
import { type ErrorMessage, fromWire, type ResultMessage } from '@taskpool/protocol/internal';
import { taintsWorker } from './call-checks.js';
import type { ClientMetrics } from './client-metrics.js';
import type { Connection, PendingCall } from './connection.js';
import { deadlineAfter, timerDelay, workerDeadline } from './deadline-queue.js';
import { channels } from './diagnostics.js';
import type { Pool } from './pool.js';

/** What every one-shot call of a client shares. */
export interface OneShotSettings {
  pool: Pool<Connection>;
  interface: Interface | undefined;
  cancelGrace: number;
  dontReforkAfterError: boolean;
  /** Where calls, waits and holds are measured; undefined with `metrics: false`. */
  metrics: ClientMetrics | undefined;
  /** The client is closing: a call that has not gone out yet is refused with `CLOSED`. */
  closing: () => boolean;
  /** The call took a worker (it counts as a checkout held until `onLeft`). */
  onAssigned: (call: OneShotCall) => void;
  /** The call gave its worker back. */
  onLeft: (call: OneShotCall) => void;
}

/** A one-shot call's own options, checked by the caller. */
export interface OneShotCallOptions {
  signal: AbortSignal | undefined;
  timeout: number | null;
  waitForServer: number | null;
}

/**
 * `waiting`: for a worker. `sent`: call and `done` are out, the reply is awaited. `cancelling`:
 * settled (aborted, or past its deadline while queued) once sent; the worker's answer to
 * the cancel is awaited. `finished`: settled, and the worker given back (or being sent
 * again, as a new record).
 */
type OneShotPhase = 'waiting' | 'sent' | 'cancelling' | 'finished';

/** How a call leaves its worker: see `Pool.leaveOneShot`. */
type LeaveMode = 'pool' | 'destroy' | 'replace';

export class OneShotCall implements PendingCall {
  /** `performance.now()` past which the reply is late, or Infinity (read by the connection). */
  deadline = Number.POSITIVE_INFINITY;
  readonly #settings: OneShotSettings;
  readonly method: string | null;
  /** Checked, and ready to send. */
  readonly #args: unknown[];
  readonly #options: OneShotCallOptions;
  /** The values of the error scopes around the caller, sent with every attempt. */
  readonly #scope: Record<string, unknown> | undefined;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: unknown) => void;
  #phase: OneShotPhase = 'waiting';
  #connection: Connection | undefined;
  #id = 0;
  /** The worker's count of failed calls when this call was sent (see `Connection.failures`). */
  #sentFailures = 0;
  #graceTimer: NodeJS.Timeout | undefined;
  #onAbort: (() => void) | undefined;
  /** `performance.now()` when sent (only with metrics, or diagnostics subscribers). */
  #started = 0;
  /**
   * `performance.now()` when it began waiting for a worker, with metrics, once it had to
   * wait; 0 while it has not (a call that gets an idle worker at once reads no clock for it).
   */
  #waitingSince = 0;

  private constructor(
    settings: OneShotSettings,
    method: string | null,
    args: unknown[],
    options: OneShotCallOptions,
    scope: Record<string, unknown> | undefined,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ) {
    this.#settings = settings;
    this.method = method;
    this.#args = args;
    this.#options = options;
    this.#scope = scope;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Makes the call; `args` are checked already (see `argumentsToSend`). */
  static run(
    settings: OneShotSettings,
    method: string | null,
    args: unknown[],
    options: OneShotCallOptions,
    scope: Record<string, unknown> | undefined,
  ): Promise<unknown> {
    let call: OneShotCall | undefined;
    const promise = new Promise<unknown>((resolve, reject) => {
      call = new OneShotCall(settings, method, args, options, scope, resolve, reject);
    });
    const made = call as OneShotCall;
    made.#take(false);
    // Not assigned at once: it waits, from now (see `#waitingSince`).
    if (made.#phase === 'waiting' && settings.metrics) made.#waitingSince = performance.now();
    return promise;
  }

  /** Its reply no longer matters to its deadline (read by the connection's deadline queue). */
  get done(): boolean {
    return this.#phase === 'finished' || this.#phase === 'cancelling';
  }

  /** The worker's pid while the call holds one. */
  get pid(): number | undefined {
    return this.#connection?.pid;
  }

  /** Takes a worker now if one is free, else waits in the pool's queue (at its head: `first`). */
  #take(first: boolean): void {
    const pool = this.#settings.pool;
    const now = pool.takeOneShot(this);
    if (now) {
      this.#send(now);
      return;
    }
    const { timeout, signal, waitForServer } = this.#options;
    pool.acquireOneShot(this, timeout, signal, waitForServer, first).then(
      (connection) => this.#send(connection),
      (error: unknown) => this.#fail(error),
    );
  }

  #send(connection: Connection): void {
    const { pool } = this.#settings;
    const { signal, timeout } = this.#options;
    if (this.#settings.closing() || signal?.aborted) {
      // close() or the abort came between the worker's assignment and now: nothing was sent.
      pool.leaveOneShot(connection, this, false, 'pool');
      this.#fail(signal?.aborted ? signal.reason : new ClosedError('client'));
      return;
    }
    this.#connection = connection;
    this.#settings.onAssigned(this);
    if (channels.checkoutAssigned.hasSubscribers) {
      channels.checkoutAssigned.publish({ pid: connection.pid, waiting: pool.stats().waiting });
    }
    if (channels.callStart.hasSubscribers) {
      channels.callStart.publish({ method: this.method, pid: connection.pid });
    }
    const { metrics } = this.#settings;
    if (metrics) {
      const now = performance.now();
      this.#started = now;
      metrics.checkoutAssigned(this.#waitingSince === 0 ? now : this.#waitingSince, now);
    } else if (channels.callFinish.hasSubscribers) {
      this.#started = performance.now();
    }
    this.deadline = deadlineAfter(timeout);
    this.#sentFailures = connection.failures;
    try {
      this.#id = connection.call(
        this,
        this.method,
        this.#args,
        workerDeadline(timeout),
        this.#scope,
      );
    } catch (error) {
      // Not sent: the connection closed, or the call could not be encoded (too large).
      const closed = connection.closeError !== undefined;
      this.#leave('pool', false);
      if (closed) this.#take(true);
      else {
        this.#fail(new ValidationError('INVALID_ARGS', (error as Error).message, { cause: error }));
      }
      return;
    }
    connection.done();
    this.#phase = 'sent';
    if (signal) {
      this.#onAbort = () => this.#abort();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** The reply, or the error that ended the connection first (see PendingCall). */
  reply(reply: ResultMessage | ErrorMessage | TaskpoolError): void {
    const connection = this.#connection;
    if (connection === undefined) return; // it left its worker already
    if (isTaskpoolError(reply)) {
      // The connection is closed: leaving it gives nothing back.
      if (this.#phase !== 'sent') this.#phase = 'finished';
      else if (connection.failures > this.#sentFailures) this.#retry();
      else this.#settle(reply);
      this.#leave('pool', false);
      return;
    }
    if (reply.type === 'error') {
      const error = fromWire(reply.error);
      if (error.code === 'PRECEDING_CALL_FAILED' && this.#phase === 'sent') {
        // It never ran: the worker's fate is for the call that failed ahead of it to decide.
        this.#retry();
        this.#leave('pool', false);
        return;
      }
      if (this.#phase !== 'sent') {
        // Cancelled: an answer came, so the worker is not stuck. A handler that failed
        // otherwise than as asked (or than at its deadline) still taints it.
        const asked = error.code === 'CANCELLED' || error.code === 'TIMEOUT';
        this.#phase = 'finished';
        this.#leave(asked ? 'pool' : this.#afterHandlerError(error), false);
        return;
      }
      const { timeout } = this.#options;
      if (
        error.code === 'TIMEOUT' &&
        (error.data as { ran?: unknown } | undefined)?.ran === false
      ) {
        // The worker reached it after its deadline (this side's timer was late, or the two
        // clocks differ), and never ran it: the worker is as good as before.
        this.#settle(new TimeoutError(timeout ?? 0, { detail: 'its worker had not started it' }));
        this.#leave('pool', false);
        return;
      }
      if (timeout !== null && (error.code === 'TIMEOUT' || performance.now() >= this.deadline)) {
        // The worker noticed the deadline first, or the reply came after it: the same
        // TIMEOUT as the client's own timer gives. The worker answered, so it is not stuck,
        // but its handler was cut short: it is replaced once the calls behind have left.
        this.#settle(new TimeoutError(timeout));
        this.#leave('replace', true);
        return;
      }
      this.#settle(error);
      this.#leave(this.#afterHandlerError(error), true);
      return;
    }
    if (this.#phase !== 'sent') {
      this.#phase = 'finished';
      this.#leave('pool', false);
      return;
    }
    const iface = this.#settings.interface;
    let value: unknown = reply.value;
    if (iface && this.method !== null) {
      try {
        value = iface.parseResult(this.method, value);
      } catch (invalid) {
        this.#settle(invalid);
        this.#leave(this.#settings.dontReforkAfterError ? 'pool' : 'replace', true);
        return;
      }
    }
    this.#settle(undefined, value);
    this.#leave('pool', true);
  }

  /**
   * How the worker leaves after the handler failed with `error`: replaced once the calls
   * pipelined behind have left (those sent before the worker counted this failure are
   * refused, and sent again), unless the code says it was not touched.
   */
  #afterHandlerError(error: TaskpoolError): LeaveMode {
    return taintsWorker(error.code) && !this.#settings.dontReforkAfterError ? 'replace' : 'pool';
  }

  /**
   * The deadline passed before the reply. Running, the call holds the worker up: it is
   * dropped. Queued behind others, it is cancelled there and never runs.
   */
  expire(): void {
    if (this.#phase !== 'sent') return;
    const connection = this.#connection as Connection;
    const timeout = this.#options.timeout as number;
    if (!connection.isFirst(this)) {
      this.#settle(
        new TimeoutError(timeout, { detail: 'queued behind other calls on its worker' }),
      );
      this.#cancel();
      return;
    }
    this.#settle(new TimeoutError(timeout));
    this.#leave(
      'destroy',
      false,
      new WorkerLostError(
        `the worker was dropped: the call of ${this.method ?? '->()'} ahead of this one timed out after ${timeout} ms; this one may have run`,
      ),
    );
  }

  #abort(): void {
    if (this.#phase !== 'sent') return;
    this.#settle(this.#options.signal?.reason);
    this.#cancel();
  }

  /**
   * Asks the worker to stop the call, settled already: one it has not started, it never
   * runs. Once the call is the one the worker runs, the worker is dropped unless its answer
   * comes within `cancelGrace`.
   */
  #cancel(): void {
    const connection = this.#connection as Connection;
    this.#phase = 'cancelling';
    connection.cancel(this.#id);
    const grace = this.#settings.cancelGrace;
    // The grace counts from when the worker runs it (or has it next): until then the calls
    // ahead may take their time, and this one holds nothing up.
    let first = connection.isFirst(this);
    const check = () => {
      if (!first) {
        first = connection.isFirst(this);
        this.#graceTimer = setTimeout(check, timerDelay(grace));
        return;
      }
      this.#leave(
        'destroy',
        false,
        new WorkerLostError(`a cancelled call did not finish within cancelGrace (${grace} ms)`),
      );
    };
    this.#graceTimer = setTimeout(check, timerDelay(grace));
  }

  /**
   * Sends the call again, to the head of the pool's queue: it never ran. A new record, so
   * that nothing the last worker's connection still holds (its deadline queue) is this one.
   */
  #retry(): void {
    if (this.#onAbort) this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#phase = 'finished';
    const again = new OneShotCall(
      this.#settings,
      this.method,
      this.#args,
      this.#options,
      this.#scope,
      this.#resolve,
      this.#reject,
    );
    again.#take(true);
  }

  /**
   * Settles a call that holds no worker: its wait failed, or it was refused before it was
   * sent. Like a checkout that never came, it publishes no call event.
   */
  #fail(error: unknown): void {
    this.#phase = 'finished';
    this.#reject(error);
  }

  /** Settles the call sent (`error` undefined: with `value`). */
  #settle(error: unknown, value?: unknown): void {
    this.#phase = 'finished';
    if (this.#onAbort) this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#settings.metrics?.callEnded(this.#started, performance.now(), error);
    if (error !== undefined) {
      if (channels.callError.hasSubscribers) {
        channels.callError.publish({ method: this.method, pid: this.pid, error });
      }
      this.#reject(error);
      return;
    }
    // #started is 0 for a call sent before anyone subscribed, with metrics off: no time.
    if (channels.callFinish.hasSubscribers && this.#started !== 0) {
      const ms = performance.now() - this.#started;
      channels.callFinish.publish({ method: this.method, pid: this.pid, ms });
    }
    this.#resolve(value);
  }

  /**
   * Gives the worker back (see `LeaveMode`; `destroy` closes its connection with `reason`).
   * `answered`: the worker ran the call and replied (the pool learns how long it took).
   * Once left, whatever the connection still reports is not this call's.
   */
  #leave(mode: LeaveMode, answered: boolean, reason?: TaskpoolError): void {
    const connection = this.#connection;
    if (connection === undefined) return;
    clearTimeout(this.#graceTimer);
    if (channels.checkoutReleased.hasSubscribers) {
      const healthy = mode === 'pool' && connection.isOpen;
      channels.checkoutReleased.publish({ pid: connection.pid, healthy });
    }
    this.#connection = undefined;
    if (this.#id !== 0) connection.settled(this);
    this.#settings.onLeft(this);
    this.#settings.pool.leaveOneShot(connection, this, answered, mode, reason);
  }
}
