/**
 * A checkout: exclusive use of one worker until it is released. Calls go out at once and
 * are pipelined; each has its own deadline. A stream (see stream-call.ts) holds the worker
 * until it ends, and a stats request goes out beside them. A non-fatal error leaves the
 * checkout usable; a fatal one (timeout, lost worker — even while no call is in flight —,
 * `throwFatalError`, an abort past `cancelGrace`) drops the worker, discards late replies,
 * and every later call rejects with the stored error. Release cancels a stream still open,
 * waits for everything sent to settle, then pools, retires or replaces the worker.
 *
 * @module
 */
import {
  CancelledError,
  CheckoutReleasedError,
  type DeferredLog,
  epochSeconds,
  FatalError,
  formatEndpoint,
  type Interface,
  isTaskpoolError,
  LeaseExpiredError,
  type LogRecord,
  type LogTimer,
  ProtocolError,
  type ServerStatsSnapshot,
  StreamActiveError,
  type StreamOptions,
  type TaskpoolError,
  TimeoutError,
  ValidationError,
  WorkerLostError,
} from '@taskpool/protocol';
import {
  type ErrorMessage,
  fromWire,
  type HelloMessage,
  type ResultMessage,
} from '@taskpool/protocol/internal';
import { argumentsToSend, taintsWorker } from './call-checks.js';
import type { ServerStatsOptions } from './checkout-proxy.js';
import type { ClientMetrics } from './client-metrics.js';
import {
  type Connection,
  type ConnectionOwner,
  type PendingCall,
  STATS_PROTOCOL_VERSION,
  STREAMS_PROTOCOL_VERSION,
} from './connection.js';
import { deadlineAfter, timerDelay, workerDeadline } from './deadline-queue.js';
import { callScope, callsTraced, channels, traceCall } from './diagnostics.js';
import { watchInScope } from './error-scope.js';
import {
  type CallOptions,
  checkCallOptions,
  checkServerStatsOptions,
  checkStreamOptions,
} from './options.js';
import type { Pool } from './pool.js';
import { StreamCall, type StreamOwner } from './stream-call.js';

/**
 * Where a checkout is in its life. `active`: calls go out. `poisoned`: a fatal error is
 * stored and every call rejects with it. `releasing`: waiting for the calls made to
 * settle; new calls are refused. `released`: the worker went back (or was replaced).
 */
type CheckoutPhase = 'active' | 'poisoned' | 'releasing' | 'released';

interface CheckoutSettings {
  timeout: number | null;
  log: DeferredLog | undefined;
  interface: Interface | undefined;
  clientName: string | undefined;
  cancelGrace: number;
  streamIdleTimeout: number | null;
  dontReforkAfterError: boolean;
  leaseTimeout: number | null;
  /** Where calls and the checkout's hold time are measured; undefined with `metrics: false`. */
  metrics: ClientMetrics | undefined;
  /** Called once the checkout has given its worker back. */
  onReleased?: () => void;
}

/**
 * An item checked against its method's `yields`. A handler's `undefined` travels as `null`
 * (JSON has no undefined): it is taken back as `undefined` when only that fits.
 */
function parseItem(iface: Interface, method: string, value: unknown): unknown {
  try {
    return iface.parseItem(method, value);
  } catch (invalid) {
    if (value !== null) throw invalid;
    try {
      return iface.parseItem(method, undefined);
    } catch {
      throw invalid;
    }
  }
}

/** Items a worker may send ahead of the consumer, unless a stream says otherwise. */
const DEFAULT_HIGH_WATER_MARK = 16;

/** Merges a worker's log into the checkout's, correcting for a worker clock that differs. */
function mergeLog(into: DeferredLog, record: LogRecord, sentAt: number, receivedAt: number): void {
  // The worker's log started after the call was sent and before the reply came back;
  // anything outside that window is clock difference.
  const clamped = Math.min(Math.max(record.start, sentAt), receivedAt);
  into.merge(record, record.start - clamped);
}

/**
 * One call in flight. A record rather than closures: the connection hands it its reply,
 * and its deadline queue calls `expire()`.
 */
class Call implements PendingCall {
  /** Settled (resolved or rejected); a late reply is read and dropped. */
  done = false;
  id = 0;
  graceTimer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  logTimer: LogTimer | undefined;
  /** Epoch seconds when sent, for merging the worker's log (only with a log). */
  sentAt = 0;
  /** `performance.now()` when made, for diagnostics (only with subscribers). */
  started = 0;

  constructor(
    readonly owner: CheckoutCore,
    readonly method: string | null,
    readonly timeout: number | null,
    /** `performance.now()` milliseconds, or Infinity. */
    readonly deadline: number,
    readonly signal: AbortSignal | undefined,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  reply(reply: ResultMessage | ErrorMessage | TaskpoolError): void {
    this.owner.onReply(this, reply);
  }

  expire(): void {
    this.owner.onDeadline(this);
  }
}

/** A stats request in flight: the connection hands it the stats, or what failed. */
class StatsRequest implements PendingCall {
  done = false;

  constructor(
    readonly owner: CheckoutCore,
    readonly timeout: number | null,
    /** `performance.now()` milliseconds, or Infinity. */
    readonly deadline: number,
    readonly resolve: (stats: ServerStatsSnapshot) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  stats(stats: ServerStatsSnapshot): void {
    this.owner.onStatsReply(this, stats);
  }

  reply(reply: ResultMessage | ErrorMessage | TaskpoolError): void {
    this.owner.onStatsReply(this, reply);
  }

  expire(): void {
    this.owner.onStatsDeadline(this);
  }
}

export class CheckoutCore implements ConnectionOwner, StreamOwner {
  readonly #connection: Connection;
  readonly #pool: Pool<Connection>;
  readonly #settings: CheckoutSettings;
  #phase: CheckoutPhase = 'active';
  /** The fatal error every later call rejects with, once there is one. */
  #fatal: TaskpoolError | undefined;
  /** A handler misbehaved (threw, bad result, setup failed): replace the worker on release. */
  #replaceWorker = false;
  /**
   * Calls, streams and stats requests whose last reply has not come back (aborted or left
   * ones included, until their grace ends).
   */
  #outstanding = 0;
  #idleWaiters: (() => void)[] = [];
  /** The release under way or done (release() is idempotent). */
  #releasing: Promise<void> | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  /** `performance.now()` when the last call in flight settled (or the checkout began). */
  #idleSince = performance.now();
  /** The last stream made; while it is `active` no other call may go. */
  #stream: StreamCall | undefined;

  /**
   * `performance.now()` when the worker was assigned, with metrics or a subscriber of the
   * released channel (else 0: no clock read).
   */
  readonly #assignedAt: number;

  constructor(connection: Connection, pool: Pool<Connection>, settings: CheckoutSettings) {
    this.#connection = connection;
    this.#pool = pool;
    this.#settings = settings;
    this.#assignedAt =
      settings.metrics || channels.checkoutReleased.hasSubscribers ? performance.now() : 0;
    if (settings.leaseTimeout !== null) this.#armLease(settings.leaseTimeout);
    // Told when the connection ends, even with no call in flight.
    connection.attach(this);
  }

  get pid(): number | undefined {
    return this.#connection.pid;
  }

  get worker(): HelloMessage | undefined {
    return this.#connection.hello;
  }

  call(method: string | null, args: readonly unknown[], options?: CallOptions): Promise<unknown> {
    const made = callsTraced()
      ? traceCall(
          {
            method,
            interface: this.#settings.interface?.name,
            client: this.#settings.clientName,
            endpoint: formatEndpoint(this.#connection.endpoint),
            pid: this.pid,
          },
          () => this.#call(method, args, options),
        )
      : this.#call(method, args, options);
    return watchInScope(made, this.#settings.clientName, method);
  }

  #call(method: string | null, args: readonly unknown[], options?: CallOptions): Promise<unknown> {
    if (this.#phase !== 'active') {
      return Promise.reject(this.#fatal ?? new CheckoutReleasedError());
    }
    // Options first, before anything is read from them: null or a wrong signal is an
    // INVALID_OPTION, whatever else is true of the call.
    try {
      checkCallOptions('call', options);
    } catch (error) {
      return Promise.reject(error);
    }
    const stream = this.#stream;
    if (stream?.active) return Promise.reject(new StreamActiveError(method, stream.method));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let sent: readonly unknown[];
    try {
      sent = argumentsToSend(this.#settings.interface, method, args);
    } catch (error) {
      return Promise.reject(error);
    }
    const timeout = this.#timeoutOf(options);
    let call: Call | undefined;
    const promise = new Promise<unknown>((resolve, reject) => {
      call = new Call(this, method, timeout, deadlineAfter(timeout), signal, resolve, reject);
    });
    const made = call as Call;
    const log = this.#settings.log;
    if (log) {
      made.logTimer = log.timer(method ?? '->()');
      made.sentAt = epochSeconds();
    }
    if (this.#settings.metrics || channels.callFinish.hasSubscribers) {
      made.started = performance.now();
    }
    if (channels.callStart.hasSubscribers) channels.callStart.publish({ method, pid: this.pid });
    try {
      made.id = this.#connection.call(
        made,
        method,
        sent as unknown[],
        workerDeadline(timeout),
        callScope(),
      );
    } catch (error) {
      // Not sent: the connection is closed, or the call could not be encoded (too large).
      made.done = true;
      made.logTimer?.end();
      const closed = this.#connection.closeError;
      made.reject(
        closed
          ? this.#poison(closed)
          : new ValidationError('INVALID_ARGS', (error as Error).message, { cause: error }),
      );
      return promise;
    }
    this.#outstanding++;
    if (signal) {
      made.onAbort = () => this.#abort(made);
      signal.addEventListener('abort', made.onAbort, { once: true });
    }
    return promise;
  }

  /** A request's own `timeout` (null: none), or the checkout's when it gives none. */
  #timeoutOf(options: { timeout?: number | null } | undefined): number | null {
    const given = options?.timeout;
    return given !== undefined ? given : this.#settings.timeout;
  }

  /**
   * Starts a stream of `method`. It goes out at once, behind the calls made before it;
   * until it ends (or its consumer leaves it) no other call may go. Whatever prevents it
   * (a released or poisoned checkout, bad arguments, another stream open) is thrown by its
   * first `next()` and rejects its `result`. Traced (`tracing:taskpool.client.call`) from
   * its start to its `result`.
   */
  stream(method: string | null, args: readonly unknown[], options?: StreamOptions): StreamCall {
    if (!callsTraced()) return this.#openStream(method, args, options);
    let opened: StreamCall | undefined;
    const traced = traceCall(
      {
        method,
        interface: this.#settings.interface?.name,
        client: this.#settings.clientName,
        endpoint: formatEndpoint(this.#connection.endpoint),
        pid: this.pid,
      },
      () => {
        opened = this.#openStream(method, args, options);
        return opened.result;
      },
    );
    // Its result is the stream's own, which its reader may observe or not.
    traced.catch(() => {});
    return opened as StreamCall;
  }

  #openStream(
    method: string | null,
    args: readonly unknown[],
    options?: StreamOptions,
  ): StreamCall {
    if (this.#phase !== 'active') {
      return StreamCall.failed(method, this.#fatal ?? new CheckoutReleasedError());
    }
    let sent: readonly unknown[];
    try {
      checkStreamOptions('stream', options);
      const open = this.#stream;
      if (open?.active) throw new StreamActiveError(method, open.method);
      const tooOld = this.#requireProtocol(STREAMS_PROTOCOL_VERSION, 'streams');
      if (tooOld) throw tooOld;
      if (options?.signal?.aborted) throw options.signal.reason;
      sent = argumentsToSend(this.#settings.interface, method, args);
    } catch (error) {
      return StreamCall.failed(method, error);
    }
    const iface = this.#settings.interface;
    const idle = options?.streamIdleTimeout;
    const highWaterMark = options?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    const stream = new StreamCall(
      this,
      {
        method,
        highWaterMark,
        timeout: this.#timeoutOf(options),
        idleTimeout: idle !== undefined ? idle : this.#settings.streamIdleTimeout,
        parseItem:
          iface && method !== null && iface.isStream(method)
            ? (value) => parseItem(iface, method, value)
            : undefined,
      },
      options?.signal,
    );
    const log = this.#settings.log;
    if (log) {
      stream.logTimer = log.timer(method ?? '->()');
      stream.sentAt = epochSeconds();
    }
    if (channels.callStart.hasSubscribers) channels.callStart.publish({ method, pid: this.pid });
    if (this.#settings.metrics || channels.callFinish.hasSubscribers) {
      stream.started = performance.now();
    }
    let id: number;
    try {
      id = this.#connection.call(
        stream,
        method,
        sent as unknown[],
        undefined,
        callScope(),
        highWaterMark,
      );
    } catch (error) {
      stream.logTimer?.end();
      const closed = this.#connection.closeError;
      return StreamCall.failed(
        method,
        closed
          ? this.#poison(closed)
          : new ValidationError('INVALID_ARGS', (error as Error).message, { cause: error }),
      );
    }
    this.#outstanding++;
    this.#stream = stream;
    stream.sent(id);
    return stream;
  }

  /** The worker's last frame for `stream` (or the error that ended the connection). */
  onStreamReply(stream: StreamCall, reply: ResultMessage | ErrorMessage | TaskpoolError): void {
    clearTimeout(stream.graceTimer);
    stream.logTimer?.end();
    try {
      stream.end(this.#streamEnding(stream, reply));
    } finally {
      this.#settleOne();
    }
  }

  #streamEnding(
    stream: StreamCall,
    reply: ResultMessage | ErrorMessage | TaskpoolError,
  ): { ok: true; value: unknown } | { ok: false; error: unknown } {
    const { method, started } = stream;
    let error: unknown;
    let value: unknown;
    if (isTaskpoolError(reply)) {
      error = this.#poison(reply);
    } else {
      this.#mergeLog(reply, stream.sentAt);
      if (reply.type === 'error') {
        error = this.#errorOf(reply);
      } else {
        try {
          value = this.#parseResult(method, reply.value);
        } catch (invalid) {
          error = invalid;
        }
      }
    }
    this.#publishOutcome(method, started, error);
    return error === undefined ? { ok: true, value } : { ok: false, error };
  }

  /**
   * The error a worker replied with; unless its code says the worker was not touched (see
   * `taintsWorker`), the worker is replaced on release.
   */
  #errorOf(reply: ErrorMessage): TaskpoolError {
    const error = fromWire(reply.error);
    if (taintsWorker(error.code)) this.#replaceWorker = true;
    return error;
  }

  /** Merges the log a worker's reply carries into the checkout's, if it has one. */
  #mergeLog(reply: ResultMessage | ErrorMessage, sentAt: number): void {
    const log = this.#settings.log;
    if (reply.log && log) mergeLog(log, reply.log, sentAt, epochSeconds());
  }

  /**
   * A result parsed by the interface (as it came without one); throws INVALID_RESULT, and
   * replaces the worker on release, when the handler returned what its schema forbids.
   */
  #parseResult(method: string | null, value: unknown): unknown {
    const iface = this.#settings.interface;
    if (!iface || method === null) return value;
    try {
      return iface.parseResult(method, value);
    } catch (invalid) {
      this.#replaceWorker = true;
      throw invalid;
    }
  }

  /** Counts and publishes how a call or a stream ended (`error` undefined: it succeeded). */
  #publishOutcome(method: string | null, started: number, error: unknown): void {
    this.#settings.metrics?.callEnded(started, performance.now(), error);
    if (error === undefined) {
      // started is 0 for a call sent before anyone subscribed, with metrics off: no time.
      if (channels.callFinish.hasSubscribers && started !== 0) {
        channels.callFinish.publish({ method, pid: this.pid, ms: performance.now() - started });
      }
    } else if (channels.callError.hasSubscribers) {
      channels.callError.publish({ method, pid: this.pid, error });
    }
  }

  /**
   * The consumer left `stream` before it ended (`misbehaved`: because of an item that broke
   * its schema, so the worker is replaced on release): the worker stops it within
   * `cancelGrace`.
   */
  onStreamLeft(stream: StreamCall, misbehaved: boolean): void {
    if (misbehaved) this.#replaceWorker = true;
    if (stream.done || this.#fatal) return;
    stream.graceTimer = this.#cancel(stream.id, 'the cancelled stream did not end');
  }

  grant(id: number, n: number): void {
    this.#connection.credit(id, n);
  }

  /** A `next()` waited `timeout` ms for an item: the worker is stuck, as a call past its deadline. */
  onStreamTimeout(stream: StreamCall, timeout: number): void {
    this.#poison(
      new TimeoutError(timeout, {
        detail: `waiting for the next item of ${stream.method ?? '->()'}`,
      }),
    );
  }

  /** The reply to `call`, or the error that ended the connection first. */
  onReply(call: Call, reply: ResultMessage | ErrorMessage | TaskpoolError): void {
    clearTimeout(call.graceTimer);
    try {
      this.#onReply(call, reply);
    } finally {
      this.#settleOne();
    }
  }

  #onReply(call: Call, reply: ResultMessage | ErrorMessage | TaskpoolError): void {
    if (isTaskpoolError(reply)) {
      // The connection ended: the stored fatal error (it is stored by now).
      if (!call.done) this.#settle(call, this.#poison(reply));
      return;
    }
    // Judged even when the call was aborted: a handler that threw taints the worker.
    const error = reply.type === 'error' ? this.#errorOf(reply) : undefined;
    if (call.done) return; // aborted: a late reply is dropped
    this.#mergeLog(reply, call.sentAt);
    if (error) {
      // The worker noticed the deadline first (its signal aborted the handler), or the
      // reply came after it: the same fatal timeout as the client's own timer gives.
      const timedOut =
        call.timeout !== null && (error.code === 'TIMEOUT' || performance.now() >= call.deadline);
      if (timedOut) this.onDeadline(call);
      else this.#settle(call, error);
      return;
    }
    let value: unknown;
    try {
      value = this.#parseResult(call.method, (reply as ResultMessage).value);
    } catch (invalid) {
      this.#settle(call, invalid);
      return;
    }
    this.#settle(call, undefined, value);
  }

  /**
   * Asks the worker for the server's stats (a control message: it goes out at once, even
   * while a call runs or a stream is read). Bounded by the checkout's call `timeout`: past
   * it the worker is stuck, and the checkout is poisoned as by a call's timeout. The
   * worker's own error reply (`TIMEOUT` when the supervisor did not answer it, `CLOSED`
   * when the supervisor is gone) rejects only this request: the worker is fine.
   */
  serverStats(options?: ServerStatsOptions): Promise<ServerStatsSnapshot> {
    if (this.#phase !== 'active') {
      return Promise.reject(this.#fatal ?? new CheckoutReleasedError());
    }
    try {
      checkServerStatsOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const tooOld = this.#requireProtocol(STATS_PROTOCOL_VERSION, 'stats requests');
    if (tooOld) return Promise.reject(tooOld);
    const timeout = this.#timeoutOf(options);
    let request: StatsRequest | undefined;
    const promise = new Promise<ServerStatsSnapshot>((resolve, reject) => {
      request = new StatsRequest(this, timeout, deadlineAfter(timeout), resolve, reject);
    });
    const made = request as StatsRequest;
    try {
      this.#connection.stats(made);
    } catch (error) {
      made.done = true;
      made.reject(this.#poison(error as TaskpoolError));
      return promise;
    }
    // Counted like a call, so that release() waits for its answer.
    this.#outstanding++;
    return promise;
  }

  /**
   * The checkout's fatal INCOMPATIBLE_PROTOCOL error when its worker speaks a protocol
   * older than `version`, which has no `feature`; undefined when it is recent enough. Fatal,
   * as the code says: sent, the message would make the worker drop the connection with a
   * PROTOCOL_ERROR, and this worker cannot serve what the caller needs.
   */
  #requireProtocol(version: number, feature: string): TaskpoolError | undefined {
    const protocol = this.#connection.hello?.protocol ?? version;
    if (protocol >= version) return undefined;
    return this.#poison(
      new ProtocolError(
        `the worker speaks protocol ${protocol}, which has no ${feature} (${version} has): upgrade the server`,
        { code: 'INCOMPATIBLE_PROTOCOL' },
      ),
    );
  }

  /** The server's stats for `request`, the worker's error reply, or the connection's end. */
  onStatsReply(
    request: StatsRequest,
    reply: ServerStatsSnapshot | ResultMessage | ErrorMessage | TaskpoolError,
  ): void {
    try {
      if (request.done) return;
      request.done = true;
      this.#connection.settled(request);
      if (isTaskpoolError(reply)) {
        request.reject(this.#poison(reply));
      } else if (!('type' in reply)) {
        request.resolve(reply);
      } else if (reply.type === 'error') {
        request.reject(fromWire(reply.error));
      } else {
        // The connection refuses a result for a stats request before it gets here.
        request.reject(new ProtocolError('a result for a stats request'));
      }
    } finally {
      this.#settleOne();
    }
  }

  /** `request`'s deadline passed before the worker answered: it is stuck. */
  onStatsDeadline(request: StatsRequest): void {
    if (request.done) return;
    request.done = true;
    this.#connection.settled(request);
    const timeout = request.timeout as number;
    request.reject(
      this.#poison(new TimeoutError(timeout, { detail: "waiting for the server's stats" })),
    );
  }

  /** The connection ended (the worker died, the server or the client closed it). */
  onConnectionClosed(error: TaskpoolError): void {
    this.#poison(error);
  }

  /** `call`'s deadline passed before its reply. */
  onDeadline(call: Call): void {
    if (!call.done) this.#settle(call, this.#poison(new TimeoutError(call.timeout as number)));
  }

  #abort(call: Call): void {
    if (call.done) return;
    this.#settle(call, call.signal?.reason);
    // In flight: ask the worker to stop, and drop it if it does not within the grace.
    call.graceTimer = this.#cancel(call.id, 'the cancelled call did not finish');
  }

  /**
   * Sends cancel for call or stream `id`, and returns the timer that poisons the checkout
   * (`WORKER_LOST`, `<what> within cancelGrace (N ms)`) unless its end comes in time.
   */
  #cancel(id: number, what: string): NodeJS.Timeout {
    this.#connection.cancel(id);
    const grace = this.#settings.cancelGrace;
    return setTimeout(() => {
      this.#poison(new WorkerLostError(`${what} within cancelGrace (${grace} ms)`));
    }, timerDelay(grace));
  }

  #settle(call: Call, error: unknown, value?: unknown): void {
    if (call.done) return;
    call.done = true;
    clearTimeout(call.graceTimer);
    if (call.onAbort) call.signal?.removeEventListener('abort', call.onAbort);
    call.logTimer?.end();
    this.#connection.settled(call);
    this.#publishOutcome(call.method, call.started, error);
    if (error === undefined) call.resolve(value);
    else call.reject(error);
  }

  /**
   * Stores the first fatal error and drops the worker (late replies are discarded; calls
   * in flight reject with it). Returns the stored error.
   */
  #poison(error: TaskpoolError): TaskpoolError {
    if (this.#fatal) return this.#fatal;
    this.#fatal = error;
    if (this.#phase === 'active') this.#phase = 'poisoned';
    // Once released, the connection is the pool's (or another checkout's): leave it be.
    if (this.#phase !== 'released') this.#connection.close(error);
    return error;
  }

  #settleOne(): void {
    this.#outstanding--;
    if (this.#outstanding === 0) {
      this.#idleSince = performance.now();
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  /**
   * One timer for the lease, set again when it fires rather than on every call: it expires
   * the checkout once no call has been in flight for `lease` ms.
   */
  #armLease(ms: number): void {
    this.#leaseTimer = setTimeout(() => this.#checkLease(), timerDelay(ms));
    this.#leaseTimer.unref();
  }

  #checkLease(): void {
    const lease = this.#settings.leaseTimeout;
    if (lease === null || this.#phase === 'releasing' || this.#phase === 'released') return;
    if (this.#outstanding > 0) {
      this.#armLease(lease);
      return;
    }
    const left = this.#idleSince + lease - performance.now();
    if (left > 0) {
      this.#armLease(Math.ceil(left));
      return;
    }
    // Taken back, not dropped: the worker is healthy and returns to the pool.
    if (!this.#fatal) {
      this.#fatal = new LeaseExpiredError(lease);
      this.#phase = 'poisoned';
    }
    void this.release();
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

  /** Lets every call made settle, then pools, retires or replaces the worker. Idempotent. */
  release(): Promise<void> {
    this.#releasing ??= this.#release();
    return this.#releasing;
  }

  async #release(): Promise<void> {
    clearTimeout(this.#leaseTimer);
    this.#phase = 'releasing';
    // A stream still open is cancelled: the worker stops it before it goes back.
    if (this.#stream?.active) {
      void this.#stream.cancel(
        new CancelledError('the checkout was released while the stream was open'),
      );
    }
    if (this.#outstanding > 0 && !this.#fatal) {
      // A fatal error closes the connection, which settles every call: this wakes then too.
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    const connection = this.#connection;
    connection.detach(this);
    const fatal = this.#fatal;
    const replace = this.#replaceWorker && !this.#settings.dontReforkAfterError;
    const healthy =
      connection.isOpen && !replace && (fatal === undefined || fatal.code === 'LEASE_EXPIRED');
    this.#phase = 'released';
    this.#pool.release(connection, healthy ? 'pool' : 'destroy');
    const now = this.#assignedAt === 0 ? 0 : performance.now();
    this.#settings.metrics?.checkoutReleased(this.#assignedAt, now);
    this.#settings.onReleased?.();
    if (channels.checkoutReleased.hasSubscribers) {
      channels.checkoutReleased.publish({
        pid: this.pid,
        healthy,
        client: this.#settings.clientName,
        // 0 for a checkout made before anyone subscribed: its start was not read.
        ms: this.#assignedAt === 0 ? 0 : now - this.#assignedAt,
      });
    }
  }
}
