/**
 * One worker serving its one connection: calls run one at a time, in the order they
 * arrive (pipelined calls wait their turn); `cancel` aborts a call's signal; `done` runs
 * `checkoutDone`. When the client goes away the worker exits: at once when idle, or as
 * soon as the running handler returns.
 *
 * @module
 */
import type { Socket } from 'node:net';
import {
  type CallMessage,
  CancelledError,
  FrameDecoder,
  FrameWriter,
  type HelloMessage,
  type Message,
  PROTOCOL_VERSION,
  PrecedingCallFailedError,
  ProtocolError,
  parseMessage,
  toWire,
  ValidationError,
  WorkerLostError,
} from '@taskpool/protocol/runtime';
import { CallContext, runInContext } from './call-context.js';
import type { Dispatcher } from './dispatcher.js';
import type { SetupRunner } from './setup-runner.js';
import type { WorkerDefinition } from './worker-definition.js';

export interface WorkerConnectionOptions {
  socket: Socket;
  dispatcher: Dispatcher;
  setup: SetupRunner;
  checkoutDone: WorkerDefinition['checkoutDone'];
  workerId: number;
  serverName: string | null;
  maxFrameBytes: number;
  maxRequestsPerWorker: number | null;
  /** Called once the connection is over and nothing runs: the worker should exit. */
  onFinished: (code: number) => void;
}

type Item = CallMessage | { type: 'done' };

/** How long a call whose client left may run on before the worker exits anyway. */
const ABANDONED_CALL_GRACE_MS = 1_000;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export class WorkerConnection {
  readonly #options: WorkerConnectionOptions;
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #writer: FrameWriter;
  readonly #queue: Item[] = [];
  #running: { id: number; ctx: CallContext; cancelled: boolean } | 'done' | null = null;
  /** Calls that failed on this connection (cancelled ones aside): see `call.failures`. */
  #failures = 0;
  #requests = 0;
  #retired = false;
  #retireWanted: string | null = null;
  #closed = false;

  constructor(options: WorkerConnectionOptions) {
    this.#options = options;
    this.#socket = options.socket;
    this.#decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes });
    this.#writer = new FrameWriter(this.#socket, options.maxFrameBytes);
    this.#socket.setNoDelay?.(true);
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', () => this.#onClose());
    this.#socket.on('close', () => this.#onClose());
    const hello: HelloMessage = {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      pid: process.pid,
      server: options.serverName,
      worker: options.workerId,
      interface: options.dispatcher.description,
    };
    this.#writer.send(hello);
  }

  /** Tells the client this worker will not serve another checkout, once it is idle. */
  retire(reason: string): void {
    this.#retireWanted = reason;
    this.#maybeRetire();
  }

  #maybeRetire(): void {
    if (this.#retired || this.#retireWanted === null || this.#closed) return;
    if (this.#running !== null || this.#queue.length > 0) return;
    this.#retired = true;
    this.#writer.send({ type: 'retire', reason: this.#retireWanted });
  }

  #onData(chunk: Buffer): void {
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
      // Calls start only once the whole read is taken in, so that a cancel that came in the
      // same read as its call (behind a blocking one) is seen before the call runs.
      this.#pump();
    } finally {
      this.#writer.uncork();
    }
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

  #onMessage(message: Message): void {
    switch (message.type) {
      case 'call':
      case 'done':
        this.#queue.push(message);
        return;
      case 'cancel':
        this.#cancel(message.id);
        return;
      case 'hello':
      case 'result':
      case 'error':
      case 'retire':
        throw new ProtocolError(`a client may not send ${message.type} messages`);
    }
  }

  #cancel(id: number): void {
    const running = this.#running;
    if (running !== null && running !== 'done' && running.id === id) {
      running.cancelled = true;
      running.ctx.abort(new CancelledError('the client cancelled the call'));
      return;
    }
    const index = this.#queue.findIndex((item) => item.type === 'call' && item.id === id);
    if (index >= 0) {
      this.#queue.splice(index, 1);
      this.#writer.send({
        type: 'error',
        id,
        error: toWire(new CancelledError('the client cancelled the call before it ran')),
        failures: this.#failures,
      });
    }
  }

  #pump(): void {
    if (this.#running !== null || this.#closed) return;
    const item = this.#queue.shift();
    if (item === undefined) {
      this.#maybeRetire();
      return;
    }
    if (item.type === 'done') {
      this.#running = 'done';
      this.#runDone();
    } else if ((item.failures ?? 0) < this.#failures) {
      // Sent before the client saw an earlier failure: it must not run.
      this.#writer.send({
        type: 'error',
        id: item.id,
        error: toWire(new PrecedingCallFailedError()),
        failures: this.#failures,
      });
      this.#pump();
    } else {
      const ctx = new CallContext({
        method: item.method,
        workerId: this.#options.workerId,
        deadline: item.deadline,
        scope: item.scope,
        log: this.#options.setup.takeLog(),
        call: this.#cascade,
      });
      this.#running = { id: item.id, ctx, cancelled: false };
      this.#runCall(item, ctx);
    }
  }

  /** `ctx.call`: another handler of this interface, in this process, with this call's context. */
  readonly #cascade = async (method: string, ...args: unknown[]): Promise<unknown> => {
    const running = this.#running;
    const parent = running !== null && running !== 'done' ? running.ctx : undefined;
    const { dispatcher } = this.#options;
    const ctx =
      parent ?? new CallContext({ method, workerId: this.#options.workerId, call: this.#cascade });
    const value = await runInContext(ctx, () => dispatcher.invoke(method, args, ctx));
    return dispatcher.checkResult(method, value);
  };

  #runCall(call: CallMessage, ctx: CallContext): void {
    this.#requests++;
    const { setup } = this.#options;
    if (setup.ready) {
      this.#invoke(call, ctx);
      return;
    }
    void setup.ensure().then((failure) => {
      if (!failure) {
        this.#invoke(call, ctx);
        return;
      }
      const setupLog = setup.takeLog();
      if (setupLog) ctx.log.merge(setupLog.toJSON());
      this.#reply(ctx, { type: 'error', id: call.id, error: toWire(failure) });
    });
  }

  /** Runs the handler; a synchronous one is answered without a promise in between. */
  #invoke(call: CallMessage, ctx: CallContext): void {
    const { dispatcher } = this.#options;
    let value: unknown;
    try {
      value = runInContext(ctx, () => dispatcher.invoke(call.method, call.args, ctx));
    } catch (error) {
      this.#fail(call, ctx, error);
      return;
    }
    if (isThenable(value)) {
      value.then(
        (resolved) => this.#succeed(call, ctx, resolved),
        (error: unknown) => this.#fail(call, ctx, error),
      );
    } else {
      this.#succeed(call, ctx, value);
    }
  }

  #succeed(call: CallMessage, ctx: CallContext, value: unknown): void {
    let reply: Message & { type: 'result' | 'error' };
    try {
      const checked = this.#options.dispatcher.checkResult(call.method, value);
      reply = { type: 'result', id: call.id, value: checked === undefined ? null : checked };
    } catch (error) {
      reply = { type: 'error', id: call.id, error: toWire(error) };
    }
    this.#reply(ctx, reply);
  }

  #fail(call: CallMessage, ctx: CallContext, error: unknown): void {
    this.#reply(ctx, { type: 'error', id: call.id, error: toWire(error) });
  }

  #reply(ctx: CallContext, reply: Message & { type: 'result' | 'error' }): void {
    ctx.dispose();
    if (reply.type === 'error') {
      const running = this.#running;
      if (running !== null && running !== 'done' && !running.cancelled) this.#failures++;
      reply.failures = this.#failures;
    }
    const log = ctx.usedLog;
    if (log) reply.log = log.finish();
    this.#send(reply);
    this.#running = null;
    this.#afterItem();
  }

  #send(reply: Message & { type: 'result' | 'error' }): void {
    if (this.#closed) return;
    try {
      this.#writer.send(reply);
    } catch (error) {
      // Too large for a frame: say so in a reply that is sure to fit (no stack, no data).
      const failure =
        reply.type === 'result'
          ? new ValidationError(
              'INVALID_RESULT',
              `result could not be sent: ${(error as Error).message}`,
            )
          : new ValidationError(
              'INVALID_RESULT',
              `error reply could not be sent: ${(error as Error).message}`,
            );
      const { code, name, message } = toWire(failure);
      this.#writer.send({
        type: 'error',
        id: reply.id,
        error: { code, name, message: message.slice(0, 500) },
      });
    }
  }

  /** Runs `checkoutDone`; without one, or with a synchronous one, the next item runs at once. */
  #runDone(): void {
    let result: unknown;
    try {
      result = this.#options.checkoutDone?.();
    } catch (error) {
      this.#doneFailed(error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        () => this.#doneFinished(),
        (error: unknown) => this.#doneFailed(error),
      );
    } else {
      this.#doneFinished();
    }
  }

  #doneFailed(error: unknown): void {
    process.stderr.write(
      `taskpool worker ${this.#options.workerId} (pid ${process.pid}): checkoutDone threw, exiting: ${(error as Error)?.stack ?? String(error)}\n`,
    );
    this.#closed = true;
    this.#socket.destroy();
    this.#options.onFinished(1);
  }

  #doneFinished(): void {
    const max = this.#options.maxRequestsPerWorker;
    if (max !== null && this.#requests >= max && this.#retireWanted === null) {
      this.#retireWanted = 'maxRequestsPerWorker';
    }
    this.#running = null;
    this.#afterItem();
  }

  #afterItem(): void {
    if (this.#closed) {
      this.#options.onFinished(0);
      return;
    }
    this.#pump();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    const running = this.#running;
    if (running === null) {
      this.#options.onFinished(0);
      return;
    }
    if (running !== 'done') running.ctx.abort(new WorkerLostError('the client went away'));
    // The worker exits as soon as the running handler returns (see #afterItem), or after
    // a grace for handlers that ignore their signal: nobody waits for their result, and a
    // client that timed out expects the work to stop. (A handler that blocks the event
    // loop is stopped by the server's hung-worker watchdog instead.)
    setTimeout(() => this.#options.onFinished(1), ABANDONED_CALL_GRACE_MS).unref();
  }
}
