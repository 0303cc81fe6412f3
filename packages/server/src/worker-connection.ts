/**
 * One worker serving its one connection once its opening exchange is over (see
 * opening-exchange.ts, which sends the hello): the socket and framing, routing what the
 * client sends, and the loop that runs the queued calls one at a time, in the order
 * they arrived; `cancel` aborts a call's signal (or drops it unrun); `done` runs
 * `checkoutDone`; `stats` is answered with the supervisor's stats, whatever runs. When the
 * client goes away the worker exits: at once when idle, or as soon as the running handler
 * returns.
 *
 * @module
 */
import type { Socket } from 'node:net';
import {
  CancelledError,
  type Peer,
  PrecedingCallFailedError,
  ProtocolError,
  type ServerStatsSnapshot,
  ValidationError,
  WorkerLostError,
} from '@taskpool/protocol';
import {
  type ErrorMessage,
  FrameDecoder,
  FrameWriter,
  type Message,
  parseMessage,
  type ResultMessage,
  toWire,
} from '@taskpool/protocol/internal';
import { CallContext, runInContext } from './call-context.js';
import { CallQueue } from './call-queue.js';
import type { CallOutcome, CallRunner } from './call-runner.js';
import type { Dispatcher } from './dispatcher.js';
import type { WorkerLimits } from './ipc.js';
import { StreamProducer, type StreamSink } from './stream-producer.js';
import { isThenable } from './value-kinds.js';
import type { WorkerDefinition } from './worker-definition.js';
import type { WorkerMetrics } from './worker-metrics.js';

interface WorkerConnectionOptions {
  /** The socket, after the opening exchange (and its hello) is over. */
  socket: Socket;
  /** Bytes the client sent after the opening exchange, not yet read. */
  head?: Buffer | undefined;
  /** Who the client is, as the opening exchange established. */
  peer: Peer;
  /** Error replies keep their stacks (see the server's `errorStacks`). */
  sendStacks: boolean;
  /** Where each call's duration and outcome go; undefined with `metrics: false`. */
  metrics: WorkerMetrics | undefined;
  dispatcher: Dispatcher;
  runner: CallRunner;
  checkoutDone: WorkerDefinition['checkoutDone'];
  workerId: number;
  limits: WorkerLimits;
  /** The supervisor's stats, for a `stats` request; rejects when it cannot say (in time). */
  serverStats: () => Promise<ServerStatsSnapshot>;
  /** Called once the connection is over and nothing runs: the worker should exit. */
  onFinished: (code: number) => void;
}

/** What the worker is doing now. */
type Running =
  | { kind: 'idle' }
  | { kind: 'call'; id: number; ctx: CallContext; cancelled: boolean; credit?: number }
  | { kind: 'stream'; id: number; ctx: CallContext; producer: StreamProducer }
  | { kind: 'checkoutDone' };

/**
 * `serving`; `retiring` once asked to retire (it says so when idle); `retired` once it has
 * said so; `closed` once the client has gone.
 */
type Phase = 'serving' | 'retiring' | 'retired' | 'closed';

const IDLE: Running = { kind: 'idle' };

/** How long a call whose client left may run on before the worker exits anyway. */
const ABANDONED_CALL_GRACE_MS = 1_000;

/**
 * A worker that has run JavaScript more than this since it last read its socket reads it again
 * before it starts the next queued call: a cancel for that call may be waiting there (a
 * handler that blocked the event loop kept it from being read).
 */
const READ_BEFORE_RUN_AFTER_MS = 1;

export class WorkerConnection {
  readonly #options: WorkerConnectionOptions;
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #writer: FrameWriter;
  readonly #queue = new CallQueue();
  #running: Running = IDLE;
  #phase: Phase = 'serving';
  #retireReason = '';
  #requests = 0;
  /** A call has run since the last `done`: a checkout is under way. */
  #inCheckout = false;
  /** The loop is running: a call that finishes inside it lets the loop go on. */
  #pumping = false;
  /**
   * `Date.now()` when the first call after the last read of the socket started (or after
   * a check that it had nothing), or -1 until then: a read costs no clock reading, and a
   * call one, which the deadline check shares. (The wall clock: cheap to read, and a step
   * of it, either way, costs at most one extra read.)
   */
  #readAt = -1;
  /** Waiting for the event loop to read the socket before the next call starts. */
  #readPending = false;
  /** Reading is paused: `maxQueuedCalls` calls are queued, or replies are not being read. */
  #paused = false;
  /** A `drain` listener is set, to resume reading once the client reads its replies. */
  #drainAwaited = false;
  /** When the frame now arriving began to arrive, or undefined between frames. */
  #frameStartedAt: number | undefined;
  #frameTimer: NodeJS.Timeout | undefined;

  constructor(options: WorkerConnectionOptions) {
    this.#options = options;
    this.#socket = options.socket;
    this.#decoder = new FrameDecoder({ maxFrameBytes: options.limits.maxFrameBytes });
    this.#writer = new FrameWriter(this.#socket, options.limits.maxFrameBytes);
    this.#socket.setNoDelay?.(true);
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', () => this.#onClose());
    this.#socket.on('close', () => this.#onClose());
    if (options.head && options.head.length > 0) this.#onData(options.head);
  }

  /**
   * Tells the client this worker will not serve another checkout: once nothing runs and
   * the calls queued for the current checkout have run, or as soon as the current checkout
   * has ended (its `done`), whichever comes first. Calls already queued for later
   * checkouts (a client pipelines one-shot calls, each its own checkout) are still served,
   * but the client sends no more.
   */
  retire(reason: string): void {
    if (this.#phase !== 'serving') return;
    this.#phase = 'retiring';
    this.#retireReason = reason;
    this.#maybeRetire();
  }

  #maybeRetire(): void {
    if (this.#phase !== 'retiring') return;
    if (this.#running.kind === 'call' || this.#running.kind === 'stream') return;
    // Mid-checkout, once its queued calls have run (a checkout held idle hears it at once);
    // between checkouts, now.
    if (this.#inCheckout && this.#queue.size > 0) return;
    this.#phase = 'retired';
    this.#writer.send({ type: 'retire', reason: this.#retireReason });
  }

  #onData(chunk: Buffer): void {
    this.#readAt = -1;
    // The replies of synchronous handlers go out in one write as soon as this read is
    // served, without waiting for the tick.
    this.#writer.cork();
    try {
      let values: unknown[];
      try {
        values = this.#decoder.push(chunk);
        for (const value of values) this.#onMessage(parseMessage(value));
      } catch (error) {
        this.#protocolFailure(error);
        return;
      }
      this.#watchFrame(values.length > 0);
      if (this.#mustPause()) this.#pause();
      // Calls start only once the whole read is taken in, so that a cancel that came in the
      // same read as its call is seen before the call runs.
      this.#pump();
    } finally {
      this.#writer.uncork();
    }
  }

  #onMessage(message: Message): void {
    switch (message.type) {
      case 'call':
      case 'done':
        this.#queue.push(message);
        return;
      case 'cancel':
        this.#cancel(message.id);
        return;
      case 'stats':
        if (message.stats !== undefined) {
          throw new ProtocolError('a client may not send stats replies');
        }
        this.#answerStats(message.id);
        return;
      case 'credit': {
        const running = this.#running;
        // Credit for a stream that has ended is late, not wrong: it is dropped.
        if (running.kind === 'stream' && running.id === message.id) {
          running.producer.grant(message.n);
        }
        return;
      }
      case 'open':
      case 'auth':
        throw new ProtocolError(`${message.type} after the opening exchange`);
      case 'challenge':
      case 'hello':
      case 'item':
      case 'result':
      case 'error':
      case 'retire':
        throw new ProtocolError(`a client may not send ${message.type} messages`);
      default:
        throw new ProtocolError(`unknown message ${(message as { type: never }).type}`);
    }
  }

  #cancel(id: number): void {
    const running = this.#running;
    if (running.kind === 'call' && running.id === id) {
      running.cancelled = true;
      running.ctx.abort(new CancelledError('the client cancelled the call'));
      return;
    }
    if (running.kind === 'stream' && running.id === id) {
      running.producer.cancel(new CancelledError('the client cancelled the stream'));
      return;
    }
    if (this.#queue.cancel(id)) {
      this.#writer.send({
        type: 'error',
        id,
        error: this.#toWire(new CancelledError('the client cancelled the call before it ran')),
        failures: this.#queue.failures,
      });
    }
    // A cancel for a call that already finished (or never came) needs nothing.
  }

  /**
   * A control message, like `cancel`: answered as soon as the supervisor has, not queued
   * behind calls. Its failure (the supervisor slow or gone) is no call's: it carries no
   * failure count and changes none.
   */
  #answerStats(id: number): void {
    this.#options.serverStats().then(
      (stats) => {
        if (this.#phase !== 'closed') this.#writer.send({ type: 'stats', id, stats });
      },
      (error: unknown) => {
        if (this.#phase === 'closed') return;
        const { code, name, message } = toWire(error);
        this.#writer.send({ type: 'error', id, error: { code, name, message } });
      },
    );
  }

  /**
   * A frame whose first byte has come must be whole within `frameTimeout`. One timer, set
   * when a frame starts arriving and checked when it fires, rather than one per read.
   */
  #watchFrame(framesEnded: boolean): void {
    if (this.#decoder.bufferedBytes === 0) {
      this.#frameStartedAt = undefined;
      return;
    }
    if (framesEnded || this.#frameStartedAt === undefined) this.#frameStartedAt = performance.now();
    this.#frameTimer ??= setTimeout(() => this.#checkFrame(), this.#options.limits.frameTimeout);
  }

  #checkFrame(): void {
    this.#frameTimer = undefined;
    const startedAt = this.#frameStartedAt;
    if (startedAt === undefined || this.#paused || this.#phase === 'closed') return;
    const timeout = this.#options.limits.frameTimeout;
    const left = startedAt + timeout - performance.now();
    if (left > 0) {
      this.#frameTimer = setTimeout(() => this.#checkFrame(), Math.ceil(left));
      return;
    }
    // The timer may be due only because a handler kept this worker from reading: the rest
    // of the frame can be waiting in the socket. Judge after it has been polled.
    this.#afterPoll(() => {
      if (this.#frameStartedAt === startedAt && !this.#paused && this.#phase !== 'closed') {
        this.#frameFailed(timeout);
      } else {
        this.#watchFrame(false);
      }
    });
  }

  #frameFailed(timeout: number): void {
    this.#protocolFailure(
      new ProtocolError(
        `a frame did not arrive in full within frameTimeout (${timeout} ms): ${this.#decoder.bufferedBytes} bytes came`,
      ),
    );
  }

  /**
   * Reading stops while `maxQueuedCalls` calls wait, or while replies wait for a client that
   * does not read them: neither calls nor replies pile up in this process.
   */
  #mustPause(): boolean {
    return (
      this.#queue.size >= this.#options.limits.maxQueuedCalls || this.#socket.writableNeedDrain
    );
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#socket.pause();
    if (this.#socket.writableNeedDrain) this.#waitForDrain();
  }

  #waitForDrain(): void {
    if (this.#drainAwaited) return;
    this.#drainAwaited = true;
    this.#socket.once('drain', () => {
      this.#drainAwaited = false;
      this.#resumeIfRoom();
      this.#pump();
    });
  }

  #resumeIfRoom(): void {
    if (!this.#paused || this.#queue.size > this.#options.limits.maxQueuedCalls / 2) return;
    if (this.#socket.writableNeedDrain) {
      this.#waitForDrain();
      return;
    }
    this.#paused = false;
    // The frame in progress gets its full time again: the wait was this side's.
    if (this.#frameStartedAt !== undefined) this.#frameStartedAt = performance.now();
    this.#frameTimer ??= setTimeout(() => this.#checkFrame(), this.#options.limits.frameTimeout);
    this.#socket.resume();
  }

  #protocolFailure(error: unknown): void {
    const failure =
      error instanceof ProtocolError ? error : new ProtocolError(String(error), { cause: error });
    try {
      const { code, name, message } = toWire(failure);
      this.#writer.send({
        type: 'error',
        id: 0,
        error: { code, name, message: message.slice(0, 500) },
      });
      this.#writer.flush();
    } catch {
      // The connection is being dropped anyway.
    }
    this.#socket.end();
    this.#socket.destroySoon?.();
    this.#onClose();
  }

  /**
   * Runs queued items one after another until one has to wait (an asynchronous handler or
   * `checkoutDone`, or a read of the socket first). A loop, not recursion: any number of
   * synchronous calls pipelined behind one another run in constant stack.
   */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#running.kind === 'idle' && this.#phase !== 'closed' && !this.#readPending) {
        const item = this.#queue.next();
        this.#resumeIfRoom();
        if (item === undefined) {
          this.#maybeRetire();
          return;
        }
        if (item.type === 'done') {
          // A checkoutDone that blocks counts too, for the calls after it.
          if (this.#readAt < 0) this.#readAt = Date.now();
          this.#runCheckoutDone();
        } else if (this.#queue.isBehindFailure(item)) {
          // Sent before the client saw an earlier failure: it must not run.
          this.#writer.send({
            type: 'error',
            id: item.id,
            error: this.#toWire(new PrecedingCallFailedError()),
            failures: this.#queue.failures,
          });
        } else if (this.#socket.writableNeedDrain) {
          // The client is not reading its replies: start nothing more until it does.
          this.#queue.unshift(item);
          this.#pause();
          this.#waitForDrain();
          return;
        } else {
          const now = Date.now();
          if (this.#readAt < 0) {
            this.#readAt = now;
          } else if (now - this.#readAt > READ_BEFORE_RUN_AFTER_MS || now < this.#readAt) {
            this.#queue.unshift(item);
            this.#readFirst();
            return;
          }
          this.#runCall(item, now);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Lets the event loop read the socket before the next call starts. Two turns: a turn
   * begun from a socket callback goes on to its immediates before it polls again, so the
   * second immediate runs after a poll for new bytes.
   */
  #readFirst(): void {
    this.#readPending = true;
    this.#afterPoll(() => {
      this.#readPending = false;
      this.#readAt = -1;
      this.#pump();
    });
  }

  /** Runs `fn` once the event loop has polled the socket (see `#readFirst`). */
  #afterPoll(fn: () => void): void {
    setImmediate(() => setImmediate(fn));
  }

  #runCall(call: Extract<Message, { type: 'call' }>, now: number): void {
    this.#requests++;
    this.#inCheckout = true;
    const ctx = new CallContext({
      method: call.method,
      workerId: this.#options.workerId,
      deadline: call.deadline,
      scope: call.scope,
      log: this.#options.runner.takeSetupLog(),
      call: this.#cascade,
      peer: this.#options.peer,
      startedAt: this.#options.metrics ? performance.now() : 0,
    });
    this.#running =
      call.credit === undefined
        ? { kind: 'call', id: call.id, ctx, cancelled: false }
        : { kind: 'call', id: call.id, ctx, cancelled: false, credit: call.credit };
    this.#options.runner.run(call, ctx, this.#callFinished, now);
  }

  /** `ctx.call`: another handler of this interface, in this process, with this call's context. */
  readonly #cascade = async (method: string, ...args: unknown[]): Promise<unknown> => {
    const running = this.#running;
    const { dispatcher } = this.#options;
    const ctx =
      running.kind === 'call' || running.kind === 'stream'
        ? running.ctx
        : new CallContext({
            method,
            workerId: this.#options.workerId,
            call: this.#cascade,
            peer: this.#options.peer,
          });
    const value = await runInContext(ctx, () => dispatcher.invoke(method, args, ctx));
    return dispatcher.checkResult(method, value);
  };

  /**
   * The running call ended, or (a streaming handler) returned its items: they are read as
   * the client grants credit, and the stream's end comes back here.
   */
  readonly #callFinished = (outcome: CallOutcome, ctx: CallContext): void => {
    if (outcome.type === 'stream') {
      this.#startStream(outcome.id, outcome.items, ctx);
      return;
    }
    ctx.dispose();
    const running = this.#running;
    // A stream's failure is not counted: its client sends nothing while it reads a stream,
    // so whatever is queued behind one was sent after the client knew how it went (or left
    // it), and must run. A call its client cancelled failed as asked, and is not counted
    // either.
    const uncounted = running.kind === 'stream' || (running.kind === 'call' && running.cancelled);
    const reply = outcome as ResultMessage | ErrorMessage;
    this.#options.metrics?.record(ctx.startedAt, reply.type === 'error' ? reply.error.code : 'ok');
    if (reply.type === 'error') {
      reply.failures = uncounted ? this.#queue.failures : this.#queue.recordFailure();
    }
    const log = ctx.usedLog;
    if (log) reply.log = log.finish();
    this.#send(reply);
    this.#itemFinished();
  };

  #startStream(id: number, items: AsyncIterable<unknown>, ctx: CallContext): void {
    const running = this.#running;
    const call = running.kind === 'call' ? running : undefined;
    const producer = new StreamProducer({
      id,
      ctx,
      items,
      credit: call?.credit ?? 1,
      dispatcher: this.#options.dispatcher,
      sink: this.#sink,
      finish: (end) => this.#callFinished(end, ctx),
    });
    this.#running = { kind: 'stream', id, ctx, producer };
    if (this.#phase === 'closed') {
      producer.cancel(new WorkerLostError('the client went away'));
    } else if (call?.cancelled) {
      // Cancelled while the handler was still making its generator.
      producer.cancel(new CancelledError('the client cancelled the stream'));
    } else {
      producer.start();
    }
  }

  /** The items of the stream running now go out here. */
  readonly #sink: StreamSink = {
    sendItem: (id, value) => {
      if (this.#phase !== 'closed') this.#writer.sendBulk({ type: 'item', id, value });
    },
    writable: () => !this.#socket.writableNeedDrain,
    onDrain: (resume) => this.#socket.once('drain', resume),
  };

  /** An error in wire form, without its stack for a peer that may not see stacks. */
  #toWire(error: unknown): ErrorMessage['error'] {
    const wire = toWire(error);
    if (!this.#options.sendStacks) delete wire.stack;
    return wire;
  }

  #send(reply: ResultMessage | ErrorMessage): void {
    if (this.#phase === 'closed') return;
    // Every error reply of a call passes here (the handler's, setup's, a validation's).
    if (reply.type === 'error' && !this.#options.sendStacks) delete reply.error.stack;
    try {
      this.#writer.send(reply);
    } catch (error) {
      // Too large for a frame: say so in a reply that is sure to fit (no stack, no data).
      const what = reply.type === 'result' ? 'result' : 'error reply';
      const failure = new ValidationError(
        'INVALID_RESULT',
        `${what} could not be sent: ${(error as Error).message}`,
      );
      const { code, name, message } = toWire(failure);
      this.#writer.send({
        type: 'error',
        id: reply.id,
        error: { code, name, message: message.slice(0, 500) },
        failures: reply.type === 'error' ? reply.failures : this.#queue.recordFailure(),
      });
    }
  }

  /** Runs `checkoutDone`; without one, or with a synchronous one, the loop goes on at once. */
  #runCheckoutDone(): void {
    this.#running = { kind: 'checkoutDone' };
    let result: unknown;
    try {
      result = this.#options.checkoutDone?.();
    } catch (error) {
      this.#checkoutDoneFailed(error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        () => this.#checkoutDoneFinished(),
        (error: unknown) => this.#checkoutDoneFailed(error),
      );
    } else {
      this.#checkoutDoneFinished();
    }
  }

  #checkoutDoneFailed(error: unknown): void {
    process.stderr.write(
      `taskpool worker ${this.#options.workerId} (pid ${process.pid}): checkoutDone threw, exiting: ${(error as Error)?.stack ?? String(error)}\n`,
    );
    this.#phase = 'closed';
    this.#queue.clear();
    this.#socket.destroy();
    this.#options.onFinished(1);
  }

  #checkoutDoneFinished(): void {
    this.#inCheckout = false;
    const max = this.#options.limits.maxRequestsPerWorker;
    if (max !== null && this.#requests >= max) this.retire('maxRequestsPerWorker');
    // Asked to retire during the checkout that just ended: said now, before the calls
    // queued for the next ones.
    this.#maybeRetire();
    this.#itemFinished();
  }

  #itemFinished(): void {
    this.#running = IDLE;
    if (this.#phase === 'closed') {
      this.#options.onFinished(0);
      return;
    }
    this.#pump();
  }

  #onClose(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#queue.clear();
    clearTimeout(this.#frameTimer);
    const running = this.#running;
    if (running.kind === 'idle') {
      this.#options.onFinished(0);
      return;
    }
    if (running.kind === 'call') running.ctx.abort(new WorkerLostError('the client went away'));
    if (running.kind === 'stream')
      running.producer.cancel(new WorkerLostError('the client went away'));
    // The worker exits as soon as the running handler returns (see #itemFinished), or after
    // a grace for handlers that ignore their signal: nobody waits for their result, and a
    // client that timed out expects the work to stop. (A handler that blocks the event
    // loop is stopped by the hung-worker watchdogs instead.)
    setTimeout(() => this.#options.onFinished(1), ABANDONED_CALL_GRACE_MS).unref();
  }
}
