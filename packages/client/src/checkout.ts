/**
 * A checkout: exclusive use of one worker until it is released. Calls go out at once and
 * are pipelined; each has its own deadline. A non-fatal error leaves the checkout usable;
 * a fatal one (timeout, lost worker, `throwFatalError`, an abort past `cancelGrace`) drops
 * the worker, discards late replies, and every later call rejects with the stored error.
 * Release waits for every call made to settle, then pools, retires or drops the worker.
 *
 * @module
 */
import {
  CheckoutReleasedError,
  type DeferredLog,
  epochSeconds,
  FatalError,
  findNonJson,
  fromWire,
  type HelloMessage,
  type Interface,
  isTaskpoolError,
  LeaseExpiredError,
  type LogRecord,
  type TaskpoolError,
  TimeoutError,
  UnknownMethodError,
  ValidationError,
  WorkerLostError,
} from '@taskpool/protocol';
import type { Connection } from './connection.js';
import { channels } from './diagnostics.js';
import { scopeValues, watchInScope } from './error-scope.js';
import type { CallOptions } from './options.js';
import type { Pool } from './pool.js';

export interface CheckoutSettings {
  timeout: number | null;
  log: DeferredLog | undefined;
  interface: Interface | undefined;
  clientName: string | undefined;
  cancelGrace: number;
  dontReforkAfterError: boolean;
  leaseTimeout: number | null;
  /** Called once the checkout has given its worker back. */
  onReleased?: () => void;
}

/** Merges a worker's log into the checkout's, correcting for a worker clock that differs. */
function mergeLog(into: DeferredLog, record: LogRecord, sentAt: number, receivedAt: number): void {
  // The worker's log started after the call was sent and before the reply came back;
  // anything outside that window is clock difference.
  const clamped = Math.min(Math.max(record.start, sentAt), receivedAt);
  into.merge(record, record.start - clamped);
}

export class CheckoutCore {
  readonly #connection: Connection;
  readonly #pool: Pool;
  readonly #settings: CheckoutSettings;
  /** Calls whose replies have not come back (aborted ones included, until their grace ends). */
  #outstanding = 0;
  #idleWaiters: (() => void)[] = [];
  #fatal: TaskpoolError | undefined;
  #errorOccurred = false;
  #released: Promise<void> | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;

  constructor(connection: Connection, pool: Pool, settings: CheckoutSettings) {
    this.#connection = connection;
    this.#pool = pool;
    this.#settings = settings;
    this.#armLease();
  }

  get pid(): number | undefined {
    return this.#connection.pid;
  }

  get worker(): HelloMessage | undefined {
    return this.#connection.hello;
  }

  /** The fatal error stored in this checkout, if any. */
  get fatalError(): TaskpoolError | undefined {
    return this.#fatal;
  }

  call(
    method: string | null,
    args: readonly unknown[],
    options: CallOptions = {},
  ): Promise<unknown> {
    const label = `${this.#settings.clientName ?? 'ANONYMOUS CLIENT'} -> ${method ?? '->()'}`;
    return watchInScope(this.#call(method, args, options), label);
  }

  #call(method: string | null, args: readonly unknown[], options: CallOptions): Promise<unknown> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    if (this.#released) return Promise.reject(new CheckoutReleasedError());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const iface = this.#settings.interface;
    try {
      if (!Array.isArray(args)) {
        throw new ValidationError(
          'INVALID_ARGS',
          `arguments must be an array, received ${typeof args}`,
        );
      }
      if (iface) {
        if (!iface.has(method)) throw new UnknownMethodError(method);
        iface.parseArgs(method, args);
      }
      const reason = findNonJson(args);
      if (reason)
        throw new ValidationError('INVALID_ARGS', `arguments of ${method ?? '->()'}: ${reason}`);
    } catch (error) {
      return Promise.reject(error);
    }
    const timeout = options.timeout !== undefined ? options.timeout : this.#settings.timeout;
    const log = this.#settings.log;
    const logTimer = log?.timer(method ?? '->()');
    const sentAt = epochSeconds();
    const started =
      channels.callStart.hasSubscribers || channels.callFinish.hasSubscribers
        ? performance.now()
        : 0;
    if (channels.callStart.hasSubscribers) channels.callStart.publish({ method, pid: this.pid });
    this.#touch();

    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      let graceTimer: NodeJS.Timeout | undefined;
      let deadlineTimer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(deadlineTimer);
        clearTimeout(graceTimer);
        signal?.removeEventListener('abort', onAbort);
        logTimer?.end();
      };
      const settle = (error: unknown, value?: unknown) => {
        if (settled) return;
        settled = true;
        finish();
        if (error === undefined) {
          if (channels.callFinish.hasSubscribers) {
            channels.callFinish.publish({ method, pid: this.pid, ms: performance.now() - started });
          }
          resolve(value);
        } else {
          if (channels.callError.hasSubscribers)
            channels.callError.publish({ method, pid: this.pid, error });
          reject(error);
        }
      };
      let id = -1;
      const onAbort = () => {
        if (settled) return;
        settle(signal?.reason);
        // In flight: ask the worker to stop, and drop it if it does not within the grace.
        this.#connection.cancel(id);
        graceTimer = setTimeout(() => {
          this.#poison(
            new WorkerLostError(
              `the cancelled call did not finish within cancelGrace (${this.#settings.cancelGrace} ms)`,
            ),
          );
        }, this.#settings.cancelGrace);
      };
      try {
        id = this.#connection.call(
          {
            method,
            args: args as unknown[],
            ...(timeout === null ? {} : { deadline: Date.now() + timeout }),
            ...(scopeValues() ? { scope: scopeValues() } : {}),
            epoch: this.#connection.epoch,
          },
          (reply) => {
            this.#settleOne();
            clearTimeout(graceTimer);
            if (settled) return; // aborted or timed out: a late reply is dropped
            if (isTaskpoolError(reply)) {
              settle(this.#fatal ?? this.#poison(reply));
              return;
            }
            if (reply.log && log) mergeLog(log, reply.log, sentAt, epochSeconds());
            if (reply.type === 'error') {
              const error = fromWire(reply.error);
              if (error.code !== 'PRECEDING_CALL_FAILED') this.#errorOccurred = true;
              settle(error);
              return;
            }
            if (iface && method !== null) {
              try {
                settle(undefined, iface.parseResult(method, reply.value));
              } catch (error) {
                this.#errorOccurred = true;
                settle(error);
              }
              return;
            }
            settle(undefined, reply.value);
          },
        );
      } catch (error) {
        // Not sent: it could not be encoded (too large for a frame).
        finish();
        reject(new ValidationError('INVALID_ARGS', (error as Error).message, { cause: error }));
        return;
      }
      this.#outstanding++;
      if (timeout !== null) {
        deadlineTimer = setTimeout(() => {
          if (!settled) settle(this.#poison(new TimeoutError(timeout)));
        }, timeout);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stores the first fatal error, drops the worker (late replies are discarded). */
  #poison(error: TaskpoolError): TaskpoolError {
    if (!this.#fatal) {
      this.#fatal = error;
      this.#connection.close(error);
    }
    return this.#fatal;
  }

  #settleOne(): void {
    this.#outstanding--;
    if (this.#outstanding === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
      this.#armLease();
    }
  }

  #touch(): void {
    clearTimeout(this.#leaseTimer);
    this.#leaseTimer = undefined;
  }

  #armLease(): void {
    const lease = this.#settings.leaseTimeout;
    if (lease === null || this.#released) return;
    clearTimeout(this.#leaseTimer);
    this.#leaseTimer = setTimeout(() => {
      if (this.#outstanding > 0 || this.#released) return;
      this.#fatal ??= new LeaseExpiredError(lease);
      void this.release();
    }, lease);
    this.#leaseTimer.unref();
  }

  /** Poisons the checkout: calls in flight and every later call reject with this error. */
  throwFatalError(reason: unknown): void {
    const error = isTaskpoolError(reason)
      ? reason
      : new FatalError(reason instanceof Error ? reason.message : String(reason), {
          cause: reason,
        });
    this.#poison(error);
  }

  /** Lets every call made settle, then pools, retires or drops the worker. Idempotent. */
  release(): Promise<void> {
    this.#released ??= this.#release();
    return this.#released;
  }

  async #release(): Promise<void> {
    clearTimeout(this.#leaseTimer);
    if (this.#outstanding > 0 && !this.#fatal) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    const fatal = this.#fatal;
    const healthy =
      this.#connection.isOpen &&
      (!fatal || fatal.code === 'LEASE_EXPIRED') &&
      (!this.#errorOccurred || this.#settings.dontReforkAfterError);
    this.#pool.release(this.#connection, healthy ? 'pool' : 'destroy');
    this.#settings.onReleased?.();
    if (channels.checkoutReleased.hasSubscribers) {
      channels.checkoutReleased.publish({ pid: this.pid, healthy });
    }
  }
}
